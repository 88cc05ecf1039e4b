variable "functions" {
  type    = list(string)
  default = ["ingest", "report", "notify"]
}

locals {
  widgets = [for i, f in var.functions : {
    type   = "metric"
    x      = (i % 3) * 8
    y      = floor(i / 3) * 6
    width  = 8
    height = 6
    properties = {
      title   = "${f} errors"
      metrics = [["AWS/Lambda", "Errors", "FunctionName", f]]
      stat    = "Sum"
      period  = 300
    }
  }]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = "functions"
  dashboard_body = jsonencode({ widgets = local.widgets })
}
