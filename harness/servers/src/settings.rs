//! How a stage's servers keep time and sign. By default the scenario's clock and the committed
//! test key (`harness/servers/keys/`): every run is repeatable, and a token stays valid for as
//! long as the scenario's clock stands still — forever. That key is public, so anyone can mint a
//! token the mocks accept. For `regsim serve` in a workshop, the wall clock (tokens expire as on a
//! real GitLab) and keys made at start (nobody else holds them) are a flag away.

use crate::listen::Limits;
use crate::token::SigningKey;
use regsim_model::world::World;

/// Whose time the token service and the registries go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The scenario's clock: registry tokens at `world.token_clock`, GitLab's own decisions and
    /// the Dependency Proxy's tokens at `world.clock`.
    #[default]
    Scenario,
    /// The machine's clock, read at each request.
    Live,
}

impl Clock {
    fn wall() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    /// When a registry token is issued or checked.
    pub fn token_now(self, world: &World) -> i64 {
        match self {
            Clock::Scenario => world.token_clock.unix_timestamp(),
            Clock::Live => Self::wall(),
        }
    }

    /// When GitLab issues or checks a Dependency Proxy token.
    pub fn gitlab_now(self, world: &World) -> i64 {
        match self {
            Clock::Scenario => world.clock.unix_timestamp(),
            Clock::Live => Self::wall(),
        }
    }
}

/// The keys tokens are signed with: the registry JWT's RSA key and the Dependency Proxy's HMAC
/// secret.
#[derive(Clone, Copy)]
pub struct Keys {
    pub signing: &'static SigningKey,
    pub proxy_secret: &'static str,
}

impl Keys {
    /// The committed test key, and the secret derived from the mock instance's fixed
    /// `db_key_base`.
    pub fn committed() -> Keys {
        Keys {
            signing: SigningKey::shared(),
            proxy_secret: crate::token::committed_proxy_secret(),
        }
    }

    /// Keys made now, held by this process only (for the life of the process: a server that
    /// reloads keeps them).
    pub fn fresh() -> Result<Keys, rsa::Error> {
        let signing: &'static SigningKey = Box::leak(Box::new(SigningKey::generate()?));
        let secret: String = {
            use rand::RngCore as _;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        Ok(Keys {
            signing,
            proxy_secret: Box::leak(secret.into_boxed_str()),
        })
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys {{ kid: {} }}", self.signing.kid)
    }
}

/// Everything a stage's servers are started with besides the world.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub limits: Limits,
    /// Exchanges the journal keeps (the newest).
    pub journal_capacity: usize,
    pub clock: Clock,
    pub keys: Keys,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            journal_capacity: crate::journal::Journal::CAPACITY,
            clock: Clock::Scenario,
            keys: Keys::committed(),
        }
    }
}
