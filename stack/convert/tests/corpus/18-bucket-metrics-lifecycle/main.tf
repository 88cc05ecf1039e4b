resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket_metric" "all" {
  bucket = aws_s3_bucket.logs.id
  name   = "EntireBucket"
}

resource "aws_s3_bucket_metric" "errors" {
  bucket = aws_s3_bucket.logs.id
  name   = "Errors"
  filter {
    prefix = "errors/"
    tags = {
      class = "error"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "archive"
    status = "Enabled"
    filter {
      prefix = "app/"
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = 90
      storage_class = "GLACIER"
    }
    expiration {
      days = 365
    }
  }

  rule {
    id     = "cleanup"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 3
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }
}
