terraform {
  backend "s3" {
    bucket       = "acme-terraform-state"
    key          = "buckets/assets.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}

variable "readers" {
  type    = list(string)
  default = ["arn:aws:iam::111122223333:role/reader"]
}

resource "aws_s3_bucket" "assets" {
  bucket_prefix = "assets-"
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "assets" {
  bucket = aws_s3_bucket.assets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Readers"
        Effect    = "Allow"
        Principal = { AWS = var.readers }
        Action    = ["s3:GetObject"]
        Resource  = "${aws_s3_bucket.assets.arn}/*"
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.assets.arn, "${aws_s3_bucket.assets.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }
    ]
  })
  depends_on = [aws_s3_bucket_ownership_controls.assets]
}
