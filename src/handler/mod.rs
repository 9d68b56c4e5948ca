//! Event decoding and response mapping for both functions: scheduled and
//! direct events for the refresher (one profile, or a fleet); direct
//! invokes and function URL requests (payload format 2.0) for the reader.
//! Logs one line per invocation, never the event, the request or the token.
//!
//! - [`event`] — the accepted event shapes;
//! - [`refresher`], [`fleet`]: the refresher's invocations;
//! - [`reader`], [`function_url`]: the reader's invocations;
//! - [`deadline`] — the Lambda deadline on the clock;
//! - [`text`] — caller values as shown in messages.

pub mod deadline;
pub mod event;
pub mod fleet;
pub mod function_url;
pub mod reader;
pub mod refresher;
pub mod text;

pub use deadline::deadline_instant;
pub use event::{parse_refresher_event, RefreshCommand};
pub use fleet::handle_fleet;
pub use reader::handle_reader;
pub use refresher::handle_refresher;
