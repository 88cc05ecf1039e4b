resource "aws_iam_role" "fleet" {
  name = "fleet"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_cloudwatch_log_group" "fn" {
  for_each          = local.merged
  name              = "/aws/lambda/${each.key}"
  retention_in_days = 14
}

resource "aws_lambda_function" "fn" {
  for_each      = local.merged
  function_name = each.key
  role          = aws_iam_role.fleet.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "${path.module}/build/${each.key}.zip"
  memory_size   = each.value.memory
  timeout       = each.value.timeout
  environment {
    variables = merge({ FUNCTION = each.key }, each.value.env)
  }
  depends_on = [aws_cloudwatch_log_group.fn]
}

resource "aws_lambda_permission" "schedule" {
  for_each      = aws_lambda_function.fn
  statement_id  = "AllowEvents"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  principal     = "events.amazonaws.com"
}
