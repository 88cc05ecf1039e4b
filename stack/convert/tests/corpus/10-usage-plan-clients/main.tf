resource "aws_api_gateway_usage_plan" "plan" {
  for_each = var.plans
  name     = each.key
  throttle_settings {
    burst_limit = each.value.burst
    rate_limit  = each.value.rate
  }
  quota_settings {
    limit  = each.value.quota
    period = "DAY"
  }
}

resource "aws_api_gateway_api_key" "client" {
  for_each = var.clients
  name     = each.key
  value    = each.key
  enabled  = each.value.enabled
}

resource "aws_api_gateway_usage_plan_key" "client" {
  for_each      = var.clients
  key_id        = aws_api_gateway_api_key.client[each.key].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.plan[each.value.plan].id
}

output "plan_ids" {
  value       = jsonencode({ for k, p in aws_api_gateway_usage_plan.plan : k => p.id })
  description = "Usage plan ids by name, as JSON."
}
