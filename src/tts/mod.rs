//! Offline text to speech.

pub mod normalize;
