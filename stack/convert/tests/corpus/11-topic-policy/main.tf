data "aws_caller_identity" "me" {}

data "aws_region" "here" {}

resource "aws_sns_topic" "events" {
  name              = "events-${data.aws_region.here.region}"
  kms_master_key_id = "alias/aws/sns"
  fifo_topic        = false
}

resource "aws_sns_topic_policy" "events" {
  arn = aws_sns_topic.events.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OwnerPublishes"
      Effect    = "Allow"
      Principal = { AWS = data.aws_caller_identity.me.arn }
      Action    = ["sns:Publish"]
      Resource  = aws_sns_topic.events.arn
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.me.account_id }
      }
    }]
  })
}

output "topic_arn" {
  value       = aws_sns_topic.events.arn
  description = "The events topic."
  sensitive   = true
}
