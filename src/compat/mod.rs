//! Other comment systems' APIs, each mapped onto Moderato's own services,
//! so their clients work unchanged: one folder per system.

pub mod isso;
