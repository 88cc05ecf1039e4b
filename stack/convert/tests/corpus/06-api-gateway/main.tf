variable "stage" {
  type    = string
  default = "v1"
}

resource "aws_api_gateway_rest_api" "api" {
  name = "orders"
  body = jsonencode({
    openapi = "3.0.1"
    info    = { title = "orders", version = "1.0" }
    paths = {
      "/orders" = {
        get = {
          "x-amazon-apigateway-integration" = {
            type       = "MOCK"
            httpMethod = "GET"
          }
        }
      }
    }
  })
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_deployment" "api" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  triggers = {
    redeployment = sha1(aws_api_gateway_rest_api.api.body)
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "stage" {
  deployment_id        = aws_api_gateway_deployment.api.id
  rest_api_id          = aws_api_gateway_rest_api.api.id
  stage_name           = var.stage
  xray_tracing_enabled = true
}

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  stage_name  = aws_api_gateway_stage.stage.stage_name
  method_path = "*/*"
  settings {
    metrics_enabled        = true
    throttling_burst_limit = 100
    throttling_rate_limit  = 50.5
  }
}

resource "aws_api_gateway_usage_plan" "default" {
  name = "default"
  api_stages {
    api_id = aws_api_gateway_rest_api.api.id
    stage  = aws_api_gateway_stage.stage.stage_name
  }
  quota_settings {
    limit  = 10000
    period = "DAY"
  }
}

output "invoke_url" {
  value       = aws_api_gateway_stage.stage.invoke_url
  description = "Stage URL."
}
