//! How the Callflow stack picks its backend from `[state]` in `callflow.toml`: none is local
//! state (`terraform.<stack>.tfstate`, as cdktf), `[state]` is S3, encrypted and locked with an
//! S3 lock file unless turned off, with the optional KMS key, workspace prefix, profile and role.

mod support;

use callflow_stack::callflow::{AppConfig, ConfigError, StateConfig, callflow_stack};
use serde_json::json;
use support::base_config;

fn state(bucket: &str) -> StateConfig {
    // Read from TOML, so the defaults are the parser's (one source: the config crate).
    let text =
        std::fs::read_to_string(support::repo_root().join("callflow.toml")).expect("callflow.toml");
    let text = format!(
        "{text}\n[state]\nbucket = \"{bucket}\"\nkey = \"callflow/prod.tfstate\"\nregion = \"eu-west-1\"\n"
    );
    let config = AppConfig::from_toml(&text).expect("valid config");
    config.stacks[0].state.clone().expect("state")
}

#[test]
fn without_state_the_stack_keeps_local_state_named_after_it() {
    let doc = callflow_stack(&base_config()).synth().expect("synth");
    assert_eq!(
        doc["terraform"]["backend"],
        json!({"local": {"path": "terraform.callflow.tfstate"}})
    );
    assert_eq!(doc["//"]["metadata"]["backend"], "local");
}

#[test]
fn state_is_s3_encrypted_and_locked_by_default() {
    let mut config = base_config();
    config.state = Some(state("callflow-state"));
    let doc = callflow_stack(&config).synth().expect("synth");
    // The shape the stack has always written: nothing more, nothing less.
    assert_eq!(
        doc["terraform"]["backend"],
        json!({"s3": {
            "bucket": "callflow-state", "key": "callflow/prod.tfstate", "region": "eu-west-1",
            "encrypt": true, "use_lockfile": true
        }})
    );
}

#[test]
fn state_options_reach_the_backend() {
    let mut state = state("callflow-state");
    state.encrypt = true;
    state.use_lockfile = false;
    state.kms_key_id = Some("alias/terraform-state".into());
    state.workspace_key_prefix = Some("environments".into());
    state.profile = Some("state".into());
    state.role_arn = Some("arn:aws:iam::123456789012:role/state".into());
    let mut config = base_config();
    config.state = Some(state);
    let doc = callflow_stack(&config).synth().expect("synth");
    assert_eq!(
        doc["terraform"]["backend"]["s3"],
        json!({
            "bucket": "callflow-state", "key": "callflow/prod.tfstate", "region": "eu-west-1",
            "encrypt": true, "use_lockfile": false, "kms_key_id": "alias/terraform-state",
            "workspace_key_prefix": "environments", "profile": "state",
            "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/state"}
        })
    );
}

#[test]
fn state_problems_are_reported_with_the_rest() {
    let text =
        std::fs::read_to_string(support::repo_root().join("callflow.toml")).expect("callflow.toml");
    let text = format!(
        "{text}\n[state]\nbucket = \"\"\nkey = \"/callflow//prod/\"\nregion = \"eu-west-1\"\nencrypt = false\nkms_key_id = \"alias/k\"\nrole_arn = \"state\"\n"
    );
    let Err(ConfigError::Invalid(problems)) = AppConfig::from_toml(&text) else {
        panic!("the state settings are invalid");
    };
    assert_eq!(
        problems,
        [
            "state.bucket is empty",
            "state.key `/callflow//prod/`: a non-empty object key that neither starts nor ends with `/` nor contains `//`",
            "state.kms_key_id needs state.encrypt = true",
            "state.role_arn `state` is not an ARN",
        ]
    );
}
