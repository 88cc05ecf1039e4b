//! `Api` takes its own props: `callflow_stack` builds them from the configuration, and props
//! that bypass the configuration's checks are still refused at synth, all problems at once.

mod support;

use callflow_stack::callflow::{ApiProps, callflow_stack};
use support::*;

#[test]
fn the_configurations_api_props_are_its_throttling_and_usage_plans() {
    let config = base_config();
    let props = ApiProps {
        throttling: config.throttling.clone(),
        usage_plan: config.usage_plan.clone(),
        ..ApiProps::new(config.prefix())
    };
    assert!(props.problems().is_empty(), "{:?}", props.problems());
    let doc = synth(&committed_config()).stacks()["callflow"].clone();
    let settings = &doc["resource"]["aws_api_gateway_method_settings"]["all"]["settings"];
    assert_eq!(
        settings["throttling_burst_limit"],
        props.throttling.burst_limit
    );
    assert_eq!(
        doc["resource"]["aws_api_gateway_rest_api"]["api"]["name"],
        format!("{}-api", props.name_prefix)
    );
    let plans = doc["resource"]["aws_api_gateway_usage_plan"]
        .as_object()
        .expect("usage plans");
    assert_eq!(plans.len(), props.usage_plan.plans().len());
}

#[test]
fn invalid_api_props_fail_synth_with_every_problem() {
    let mut config = base_config();
    // Values the configuration's own checks refuse, set after them.
    config.throttling.burst_limit = 0;
    config.usage_plan.quota_per_day = -1;
    config.usage_plan.clients[0].plan = "platinum".into();
    let client = config.usage_plan.clients[0].client_id.clone();
    let err = callflow_stack(&config)
        .synth()
        .expect_err("invalid props must fail synth")
        .to_string();
    for expected in [
        "Api: throttling burst 0 / rate".to_owned(),
        "Api: usage plan `default`: burst".to_owned(),
        format!("Api: usage_plan.clients `{client}`: plan `platinum` is neither"),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
}
