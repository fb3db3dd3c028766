//! Unit tests of the virtual filesystem.

mod build;
