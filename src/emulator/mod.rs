//! The local emulator.
