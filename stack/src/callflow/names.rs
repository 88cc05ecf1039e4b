//! Account-level values (partition, region, account id) used to build ARNs.

use crate::dsl::aws::meta::{CallerIdentity, Partition, Region};
use crate::dsl::{DataHandle, Stack, Tf};

/// The `data` sources that say where the stack is deployed, and ARN builders over them.
#[derive(Clone, Debug)]
pub struct Account {
    /// `data.aws_caller_identity.current`.
    pub identity: DataHandle<CallerIdentity>,
    /// `data.aws_region.current`.
    pub region: DataHandle<Region>,
    /// `data.aws_partition.current`.
    pub partition: DataHandle<Partition>,
}

impl Account {
    /// Declares the three data sources.
    pub fn declare(stack: &mut Stack) -> Self {
        Self {
            identity: stack.data("current", CallerIdentity {}),
            region: stack.data("current", Region {}),
            partition: stack.data("current", Partition {}),
        }
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> Tf<String> {
        Tf::template([
            "arn:".into(),
            self.partition.partition(),
            format!(":{service}:").into(),
            self.region.region(),
            ":".into(),
            self.identity.account_id(),
            format!(":{resource}").into(),
        ])
    }

    /// The account root principal ARN, `arn:<partition>:iam::<account>:root`.
    pub fn root(&self) -> Tf<String> {
        Tf::template([
            "arn:".into(),
            self.partition.partition(),
            ":iam::".into(),
            self.identity.account_id(),
            ":root".into(),
        ])
    }
}
