//! App state and its update function.
