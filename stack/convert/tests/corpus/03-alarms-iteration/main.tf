variable "functions" {
  type = map(object({
    threshold = number
    period    = optional(number, 300)
  }))
  default = {
    api    = { threshold = 5 }
    worker = { threshold = 1, period = 60 }
  }
}

variable "emails" {
  type    = list(string)
  default = ["oncall@example.com", "team@example.com"]
}

resource "aws_sns_topic" "alarms" {
  name = "alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count     = length(var.emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.emails[count.index]
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each            = var.functions
  alarm_name          = "${each.key}-errors"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  metric_name         = "Errors"
  namespace           = "AWS/Lambda"
  period              = each.value.period
  statistic           = "Sum"
  threshold           = each.value.threshold
  dimensions = {
    FunctionName = each.key
  }
  alarm_actions = [aws_sns_topic.alarms.arn]
}

output "alarm_names" {
  value = [for a in aws_cloudwatch_metric_alarm.errors : a.alarm_name]
}
