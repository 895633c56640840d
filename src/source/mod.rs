//! Source layouts: how one city's export maps onto the call schema — profiles, value maps,
//! crosswalks, time parsing, layout detection and call-type classification.
pub mod classify;
pub mod coverage;
pub mod crosswalk;
pub mod detect;
pub mod layout;
pub mod profile;
pub mod suggest;
pub mod timeparse;
pub mod typemap;
pub mod valuemap;
