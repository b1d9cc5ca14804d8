//! No access control: every request goes through (a registry without `auth:`).

use super::{AccessController, AccessRecord, Challenge};

pub struct Open;

impl AccessController for Open {
    fn authorized(&self, _: Option<&str>, _: &[AccessRecord<'_>]) -> Result<(), Challenge> {
        Ok(())
    }
}
