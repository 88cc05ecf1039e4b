//! Terraform's `number`: an integer or a float, kept exactly as given.

use std::fmt;

use serde_json::Value;

use super::expr::TfLiteral;

/// A Terraform `number` literal. Integers stay integers (no `f64` rounding of large `i64` /
/// `u64` values) and floats are written with the shortest representation that reads back to the
/// same `f64`, so no value changes on its way to the JSON.
///
/// ```
/// use callflow_dsl::{Number, Tf, TfLiteral};
/// assert_eq!(Number::from(9_007_199_254_740_993_i64).to_tf_json(), serde_json::json!(9_007_199_254_740_993_i64));
/// assert_eq!(Number::from(0.1).to_tf_json(), serde_json::json!(0.1));
/// let n: Tf<Number> = 30.into();
/// assert_eq!(n.to_tf_json(), serde_json::json!(30));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX` (or any `u64`).
    UInt(u64),
    /// A float; non-finite values have no JSON form and are rejected at synth.
    Float(f64),
}

impl TfLiteral for Number {
    fn to_tf_json(&self) -> Value {
        match *self {
            Number::Int(n) => Value::from(n),
            Number::UInt(n) => Value::from(n),
            // `Value::from` maps NaN and infinities to `null`; synth reports nulls it did not expect.
            Number::Float(n) => Value::from(n),
        }
    }
    fn to_hcl(&self) -> String {
        self.to_string()
    }
    fn serialize_tf<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // As `to_tf_json`: serde_json writes non-finite floats as `null` too.
        match *self {
            Number::Int(n) => serializer.serialize_i64(n),
            Number::UInt(n) => serializer.serialize_u64(n),
            Number::Float(n) => serializer.serialize_f64(n),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::UInt(n) => write!(f, "{n}"),
            Number::Float(n) => write!(f, "{}", Value::from(*n)),
        }
    }
}

macro_rules! number_from {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Self {
                Number::$variant(<$wide>::from(n))
            }
        }
        impl From<$t> for super::expr::Tf<Number> {
            fn from(n: $t) -> Self {
                super::expr::Tf::Literal(Number::from(n))
            }
        }
    )*};
}
number_from!(Int as i64: i8, i16, i32, i64, u8, u16, u32);
number_from!(UInt as u64: u64);
number_from!(Float as f64: f32, f64);

impl From<usize> for Number {
    fn from(n: usize) -> Self {
        Number::UInt(n as u64)
    }
}

impl From<usize> for super::expr::Tf<Number> {
    fn from(n: usize) -> Self {
        super::expr::Tf::Literal(Number::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn integers_are_exact(n in any::<i64>()) {
            prop_assert_eq!(Number::from(n).to_tf_json().as_i64(), Some(n));
        }

        #[test]
        fn unsigned_integers_are_exact(n in any::<u64>()) {
            prop_assert_eq!(Number::from(n).to_tf_json().as_u64(), Some(n));
        }

        #[test]
        fn finite_floats_read_back_identical(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let text = Number::from(f).to_tf_json().to_string();
            let back: f64 = text.parse().expect("a JSON number");
            prop_assert_eq!(back.to_bits(), f.to_bits());
        }
    }
}
