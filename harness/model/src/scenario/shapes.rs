//! Fields that take one of two shapes (a name, or a mapping with the name and more): read with
//! a visitor that says which shapes it expected. `#[serde(untagged)]` would say only "data did
//! not match any variant", and would drop the errors inside the mapping (an unknown key, say).

use super::{ImageSpec, PullPolicies, ServiceFull, ServiceSpec, StoredImageFull, StoredImageSpec};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A name (string) or a mapping read as `F`; `expecting` names both shapes.
struct NameOr<F> {
    expecting: &'static str,
    full: PhantomData<F>,
}

enum Shape<F> {
    Name(String),
    Full(F),
}

impl<'de, F: Deserialize<'de>> Visitor<'de> for NameOr<F> {
    type Value = Shape<F>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Shape::Name(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        F::deserialize(MapAccessDeserializer::new(map)).map(Shape::Full)
    }
}

fn name_or<'de, D: Deserializer<'de>, F: Deserialize<'de>>(
    d: D,
    expecting: &'static str,
) -> Result<Shape<F>, D::Error> {
    d.deserialize_any(NameOr {
        expecting,
        full: PhantomData,
    })
}

impl<'de> Deserialize<'de> for ImageSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match name_or(d, "an image name (string) or {name:, pull_policy:}")? {
            Shape::Name(n) => ImageSpec::Name(n),
            Shape::Full(f) => ImageSpec::Full(f),
        })
    }
}

impl<'de> Deserialize<'de> for ServiceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match name_or::<_, ServiceFull>(d, "a service's image name (string) or {name:, alias:}")? {
                Shape::Name(n) => ServiceSpec::Name(n),
                Shape::Full(f) => ServiceSpec::Full(f),
            },
        )
    }
}

impl<'de> Deserialize<'de> for StoredImageSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match name_or::<_, StoredImageFull>(d, "an image as path:tag (string) or {name:, layers:, platforms:}")? {
                Shape::Name(n) => StoredImageSpec::Name(n),
                Shape::Full(f) => StoredImageSpec::Full(f),
            },
        )
    }
}

/// `pull_policy:` is one policy or a list of them, as in `.gitlab-ci.yml` and config.toml.
struct Policies;

impl<'de> Visitor<'de> for Policies {
    type Value = PullPolicies;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pull policy (string) or a list of them")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PullPolicies::One(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Vec::<String>::deserialize(SeqAccessDeserializer::new(seq)).map(PullPolicies::Many)
    }
}

impl<'de> Deserialize<'de> for PullPolicies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Policies)
    }
}
