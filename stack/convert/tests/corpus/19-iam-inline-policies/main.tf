variable "policies" {
  type = map(list(string))
  default = {
    read  = ["s3:GetObject", "s3:ListBucket"]
    write = ["s3:PutObject"]
  }
}

resource "aws_iam_role" "app" {
  name                 = "app"
  path                 = "/service/"
  max_session_duration = 7200
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
  inline_policy {
    name = "logs"
    policy = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = ["logs:PutLogEvents"], Resource = "*" }]
    })
  }
  tags = {
    Owner = "platform"
  }
}

resource "aws_iam_role_policy" "s3" {
  for_each = var.policies
  name     = "s3-${each.key}"
  role     = aws_iam_role.app.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = each.value, Resource = "arn:aws:s3:::acme-data/*" }]
  })
}
