//! What `callflow diff` shows: per-element summary lines with changed attribute paths, unified
//! JSON diffs, and the machine format.

mod support;

use callflow_stack::callflow::AppConfig;
use callflow_stack::dsl::SynthDiff;
use support::*;

fn changed_config() -> AppConfig {
    let mut config = base_config();
    config.throttling.burst_limit = 500;
    config.alarms.email = None;
    config.alarms.api_5xx = 10.0;
    AppConfig {
        stacks: vec![config],
    }
}

#[test]
fn identical_synths_have_no_changes() {
    let a = synth(&committed_config());
    let diff = SynthDiff::between(&a, &a.clone());
    assert!(diff.is_empty());
    insta::assert_snapshot!(diff.render_human(false), @"No changes: the synth matches.\n");
}

#[test]
fn config_changes_show_as_element_changes_with_paths() {
    let old = synth(&committed_config());
    let new = synth(&changed_config());
    let diff = SynthDiff::between(&old, &new);
    insta::assert_snapshot!("diff_human", diff.render_human(false));
    insta::assert_snapshot!("diff_json", diff.render_json());
}

#[test]
fn colour_only_when_asked() {
    let diff = SynthDiff::between(&synth(&committed_config()), &synth(&changed_config()));
    assert!(!diff.render_human(false).contains('\u{1b}'));
    assert!(
        diff.render_human(true)
            .contains("\u{1b}[31m- callflow/aws_sns_topic_subscription.alarms_email")
    );
}

#[test]
fn a_new_stack_is_all_additions() {
    let diff = SynthDiff::between(&Default::default(), &synth(&committed_config()));
    assert!(
        diff.changes
            .iter()
            .all(|c| c.change == callflow_stack::dsl::ChangeKind::Added)
    );
    assert!(
        diff.changes.len() > 57,
        "resources plus outputs, variables and blocks"
    );
}
