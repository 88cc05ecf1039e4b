//! Typed references: what an attribute of a declared resource evaluates to, checked by the
//! compiler. Generated bindings return these from a resource's handle; each renders as the
//! Terraform expression that reads the attribute.

use std::fmt;
use std::marker::PhantomData;

use super::expr::{Expression, Tf, hcl_quote};

/// A reference type built from the expression that reads it (`aws_s3_bucket.events.arn`).
pub trait FromExpression {
    /// The reference reading `expression`.
    fn from_expression(expression: Expression) -> Self;
}

impl<T> FromExpression for Tf<T> {
    fn from_expression(expression: Expression) -> Self {
        Tf::Expr(expression)
    }
}

/// A reference to a list or set attribute whose elements are `E` references.
///
/// ```
/// use callflow_dsl::{Expression, FromExpression, ListRef, Tf};
/// let names: ListRef<Tf<String>> = ListRef::from_expression(Expression::raw("aws_acm_certificate.api.validation_emails"));
/// assert_eq!(names.get(0).to_tf_json(), serde_json::json!("${aws_acm_certificate.api.validation_emails[0]}"));
/// assert_eq!(names.tolist().get(1).to_tf_json(), serde_json::json!("${tolist(aws_acm_certificate.api.validation_emails)[1]}"));
/// ```
pub struct ListRef<E> {
    expression: Expression,
    _element: PhantomData<fn() -> E>,
}

impl<E> ListRef<E> {
    /// The expression of the whole list.
    pub fn expression(&self) -> &Expression {
        &self.expression
    }

    /// The whole list as a value, e.g. for an argument of list type.
    pub fn value<T>(&self) -> Tf<T> {
        Tf::Expr(self.expression.clone())
    }

    /// `tolist(expr)`: a set converted to a list, so that its elements can be indexed.
    pub fn tolist(&self) -> Self {
        Self::from_expression(
            self.expression
                .derived(format!("tolist({})", self.expression)),
        )
    }

    /// `length(expr)`.
    pub fn length(&self) -> Tf<super::Number> {
        Tf::Expr(
            self.expression
                .derived(format!("length({})", self.expression)),
        )
    }
}

impl<E: FromExpression> ListRef<E> {
    /// The element at `index`: `expr[index]` (index a set through [`ListRef::tolist`]).
    pub fn get(&self, index: usize) -> E {
        E::from_expression(self.expression.index(index))
    }
}

impl<E> FromExpression for ListRef<E> {
    fn from_expression(expression: Expression) -> Self {
        Self {
            expression,
            _element: PhantomData,
        }
    }
}

impl<E> Clone for ListRef<E> {
    fn clone(&self) -> Self {
        Self::from_expression(self.expression.clone())
    }
}

impl<E> fmt::Debug for ListRef<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ListRef").field(&self.expression).finish()
    }
}

/// A reference to a map attribute whose values are `E` references.
///
/// ```
/// use callflow_dsl::{Expression, FromExpression, MapRef, Tf};
/// let tags: MapRef<Tf<String>> = MapRef::from_expression(Expression::raw("aws_s3_bucket.b.tags_all"));
/// assert_eq!(tags.get("Service").to_tf_json(), serde_json::json!("${aws_s3_bucket.b.tags_all[\"Service\"]}"));
/// ```
pub struct MapRef<E> {
    expression: Expression,
    _element: PhantomData<fn() -> E>,
}

impl<E> MapRef<E> {
    /// The expression of the whole map.
    pub fn expression(&self) -> &Expression {
        &self.expression
    }

    /// The whole map as a value, e.g. for an argument of map type.
    pub fn value<T>(&self) -> Tf<T> {
        Tf::Expr(self.expression.clone())
    }
}

impl<E: FromExpression> MapRef<E> {
    /// The value under `key`: `expr["key"]`.
    pub fn get(&self, key: &str) -> E {
        E::from_expression(self.expression.derived(format!(
            "{}[{}]",
            self.expression,
            hcl_quote(key)
        )))
    }
}

impl<E> FromExpression for MapRef<E> {
    fn from_expression(expression: Expression) -> Self {
        Self {
            expression,
            _element: PhantomData,
        }
    }
}

impl<E> Clone for MapRef<E> {
    fn clone(&self) -> Self {
        Self::from_expression(self.expression.clone())
    }
}

impl<E> fmt::Debug for MapRef<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MapRef").field(&self.expression).finish()
    }
}
