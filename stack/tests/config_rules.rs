//! The rules `callflow-config` states without depending on the DSL agree with the DSL's.

use callflow_config::is_stack_name;
use callflow_stack::dsl::LogicalId;
use proptest::prelude::*;

#[test]
fn stack_names_are_the_dsl_identifiers() {
    for name in [
        "callflow",
        "callflow-staging",
        "_private",
        "a",
        "9lives",
        "-x",
        "",
        "with space",
        "dot.ted",
        "naïve",
        &"a".repeat(64),
        &"a".repeat(65),
    ] {
        assert_eq!(
            is_stack_name(name),
            LogicalId::parse(name).is_ok(),
            "{name:?}"
        );
    }
}

proptest! {
    #[test]
    fn stack_name_rule_matches_logical_id(name in "[a-zA-Z0-9_.é -]{0,70}") {
        prop_assert_eq!(is_stack_name(&name), LogicalId::parse(&name).is_ok());
    }
}
