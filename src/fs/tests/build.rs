use crate::fs::*;
