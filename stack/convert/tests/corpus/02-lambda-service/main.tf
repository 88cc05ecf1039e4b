data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

variable "service" {
  type    = string
  default = "orders"
}

variable "memory" {
  type    = number
  default = 256
}

variable "environment" {
  type    = string
  default = "staging"
}

locals {
  function_name = "${var.service}-${var.environment}"
  log_retention = var.environment == "prod" ? 365 : 14
  env_vars = {
    SERVICE   = var.service
    LOG_LEVEL = var.environment == "prod" ? "info" : "debug"
    ACCOUNT   = data.aws_caller_identity.current.account_id
  }
}

resource "aws_iam_role" "fn" {
  name = "${local.function_name}-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "logs" {
  name = "logs"
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${local.function_name}:*"
    }]
  })
}

resource "aws_cloudwatch_log_group" "fn" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = local.log_retention
}

resource "aws_lambda_function" "fn" {
  function_name = local.function_name
  role          = aws_iam_role.fn.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = ["arm64"]
  memory_size   = var.memory
  timeout       = 10
  filename      = "${path.module}/bootstrap.zip"

  environment {
    variables = local.env_vars
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.fn.name
  }

  depends_on = [aws_cloudwatch_log_group.fn, aws_iam_role_policy.logs]
}

resource "aws_lambda_permission" "invoke" {
  statement_id  = "AllowInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn.function_name
  principal     = "apigateway.amazonaws.com"
}

output "function_arn" {
  value       = aws_lambda_function.fn.arn
  description = "ARN of the function."
}
