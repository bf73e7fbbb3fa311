//! Turns [`Settings`](crate::config::Settings) into a live provider and a resolved instance.
