resource "aws_s3_bucket" "primary" {
  bucket = "data-primary"
}

resource "aws_s3_bucket" "replica" {
  provider = aws.west
  bucket   = "data-replica"
}

resource "aws_kms_key" "west" {
  provider                = aws.west
  description             = "replica key"
  deletion_window_in_days = 7
}

output "replica_arn" {
  value       = aws_s3_bucket.replica.arn
  description = "The replica bucket."
}
