//! Account-level values (partition, region, account id) used to build ARNs.

use crate::aws::caller_identity::DataCallerIdentity;
use crate::aws::partition::DataPartition;
use crate::aws::region::DataRegion;
use crate::dsl::{DataHandle, Stack, Tf};

/// The `data` sources that say where the stack is deployed, and ARN builders over them.
#[derive(Clone, Debug)]
pub struct Account {
    /// `data.aws_caller_identity.current`.
    pub identity: DataHandle<DataCallerIdentity>,
    /// `data.aws_region.current`.
    pub region: DataHandle<DataRegion>,
    /// `data.aws_partition.current`.
    pub partition: DataHandle<DataPartition>,
}

impl Account {
    /// Declares the three data sources.
    pub fn declare(stack: &mut Stack) -> Self {
        Self {
            identity: stack.data("current", DataCallerIdentity::new()),
            region: stack.data("current", DataRegion::new()),
            partition: stack.data("current", DataPartition::new()),
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
