locals {
  service = "payments"
  filters = {
    denied = "{ $.status = 403 }"
    errors = "{ $.level = \"error\" }"
  }
  common_tags = { for k, v in { Service = local.service, Team = "core" } : k => lower(v) }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/app/${local.service}"
  retention_in_days = 30
  tags              = local.common_tags
}

resource "aws_cloudwatch_log_metric_filter" "by_kind" {
  for_each       = local.filters
  name           = "${local.service}-${each.key}"
  pattern        = each.value
  log_group_name = aws_cloudwatch_log_group.app.name

  metric_transformation {
    name      = title(each.key)
    namespace = "App/${local.service}"
    value     = "1"
  }
}

resource "aws_cloudwatch_metric_alarm" "denied" {
  alarm_name          = "${local.service}-denied"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "Denied"
  namespace           = "App/${local.service}"
  period              = 60
  statistic           = "Sum"
  threshold           = 10
  treat_missing_data  = "notBreaching"
  depends_on          = [aws_cloudwatch_log_metric_filter.by_kind]
}
