//! The `s3s::S3` implementation: the eight operations the store serves, each one logged and
//! subject to fault injection.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::future::Future;
use std::io;
use std::sync::Arc;

use base64::Engine as _;
use futures::StreamExt as _;
use hyper::body::Bytes;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::{
    Bucket as BucketEntry, ChecksumAlgorithm, ChecksumMode, CommonPrefix, CreateBucketInput,
    CreateBucketOutput, DeleteObjectInput, DeleteObjectOutput, ETag, ETagCondition, EncodingType,
    GetObjectInput, GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput,
    HeadObjectOutput, ListBucketsInput, ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output,
    Object, ObjectStorageClass, PutObjectInput, PutObjectOutput, StreamingBlob, Timestamp,
};
use s3s::{S3, S3Error, S3Request, S3Response, S3Result, s3_error};

use crate::catalog::{Bucket, Catalog, read_object_header};
use crate::disk;
use crate::faults::FaultInjector;
use crate::group_commit::GroupCommit;
use crate::key_index::IndexEntry;
use crate::listing::{self, ContinuationToken, ListQuery};
use crate::locks::KeyLocks;
use crate::names::{BucketName, ObjectKey, hex};
use crate::record::{self, ObjectMeta, StoredChecksums};
use crate::request_log::{Operation, RequestLog, RequestRecord};

/// The store behind the S3 protocol layer. Cheap to clone (all state is shared).
#[derive(Debug, Clone)]
pub(crate) struct Backend {
    catalog: Arc<Catalog>,
    locks: Arc<KeyLocks>,
    log: RequestLog,
    faults: FaultInjector,
    /// Shared flushes for object writes; `None` writes each object with its own fsyncs.
    group: Option<Arc<GroupCommit>>,
}

impl Backend {
    pub fn new(
        catalog: Arc<Catalog>,
        log: RequestLog,
        faults: FaultInjector,
        group: Option<Arc<GroupCommit>>,
    ) -> Self {
        Self {
            catalog,
            locks: Arc::new(KeyLocks::default()),
            log,
            faults,
            group,
        }
    }

    /// Applies injected faults, runs `work`, records the outcome in the request log.
    async fn observe<T>(
        &self,
        operation: Operation,
        bucket: Option<String>,
        target: Option<String>,
        work: impl Future<Output = S3Result<T>>,
    ) -> S3Result<T> {
        self.observe_listing(operation, bucket, target, work, |_| None)
            .await
    }

    /// [`Backend::observe`], also recording how many keys a successful listing returned.
    async fn observe_listing<T>(
        &self,
        operation: Operation,
        bucket: Option<String>,
        target: Option<String>,
        work: impl Future<Output = S3Result<T>>,
        keys_listed: impl FnOnce(&T) -> Option<usize>,
    ) -> S3Result<T> {
        let fault = self.faults.decide(operation);
        if !fault.latency.is_zero() {
            tokio::time::sleep(fault.latency).await;
        }
        let result = match fault.error {
            Some(error) => Err(error.to_s3_error()),
            None => work.await,
        };
        self.log.push(RequestRecord {
            operation,
            bucket,
            target,
            error_code: result.as_ref().err().map(|e| e.code().as_str().to_owned()),
            keys_listed: result.as_ref().ok().and_then(keys_listed),
        });
        result
    }

    fn bucket(&self, name: &str) -> S3Result<Arc<Bucket>> {
        self.catalog
            .bucket(name)
            .ok_or_else(|| s3_error!(NoSuchBucket, "The specified bucket does not exist: {name}"))
    }
}

fn parse_key(key: &str) -> S3Result<ObjectKey> {
    ObjectKey::parse(key)
        .ok_or_else(|| s3_error!(KeyTooLongError, "Object keys are 1 to 1024 bytes"))
}

fn internal(error: impl Display) -> S3Error {
    s3_error!(InternalError, "{error}")
}

fn no_such_key(key: &str) -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist: {key}")
}

/// Runs blocking disk work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(internal)?
}

fn size_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn user_metadata(meta: &ObjectMeta) -> Option<HashMap<String, String>> {
    (!meta.metadata.is_empty()).then(|| meta.metadata.clone().into_iter().collect())
}

/// Percent-encodes like S3 does for `encoding-type=url` (everything but unreserved and `/`).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Which flexible checksums a PUT asks for, and the values it claims (headers or trailers).
fn checksum_hasher(input: &PutObjectInput) -> S3Result<ChecksumHasher> {
    let mut hasher = ChecksumHasher::default();
    if input.checksum_crc32.is_some() {
        hasher.crc32 = Some(Default::default());
    }
    if input.checksum_crc32c.is_some() {
        hasher.crc32c = Some(Default::default());
    }
    if input.checksum_sha1.is_some() {
        hasher.sha1 = Some(Default::default());
    }
    if input.checksum_sha256.is_some() {
        hasher.sha256 = Some(Default::default());
    }
    if input.checksum_crc64nvme.is_some() {
        hasher.crc64nvme = Some(Default::default());
    }
    if let Some(algorithm) = &input.checksum_algorithm {
        match algorithm.as_str() {
            ChecksumAlgorithm::CRC32 => hasher.crc32 = Some(Default::default()),
            ChecksumAlgorithm::CRC32C => hasher.crc32c = Some(Default::default()),
            ChecksumAlgorithm::SHA1 => hasher.sha1 = Some(Default::default()),
            ChecksumAlgorithm::SHA256 => hasher.sha256 = Some(Default::default()),
            ChecksumAlgorithm::CRC64NVME => hasher.crc64nvme = Some(Default::default()),
            other => {
                return Err(s3_error!(
                    InvalidArgument,
                    "Unsupported checksum algorithm {other}"
                ));
            }
        }
    }
    Ok(hasher)
}

/// Compares computed checksums with the claimed ones; any mismatch is `BadDigest`.
fn verify_checksums(computed: &StoredChecksums, claimed: &StoredChecksums) -> S3Result<()> {
    let pairs = [
        ("CRC32", &computed.crc32, &claimed.crc32),
        ("CRC32C", &computed.crc32c, &claimed.crc32c),
        ("SHA1", &computed.sha1, &claimed.sha1),
        ("SHA256", &computed.sha256, &claimed.sha256),
        ("CRC64NVME", &computed.crc64nvme, &claimed.crc64nvme),
    ];
    for (name, computed, claimed) in pairs {
        if let Some(claimed) = claimed
            && computed.as_ref() != Some(claimed)
        {
            return Err(s3_error!(
                BadDigest,
                "The {name} you specified did not match the calculated checksum"
            ));
        }
    }
    Ok(())
}

fn claimed_checksums(
    input: &PutObjectInput,
    trailers: Option<&hyper::HeaderMap>,
) -> S3Result<StoredChecksums> {
    let trailer = |name: &str| -> S3Result<Option<String>> {
        trailers
            .and_then(|t| t.get(name))
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| s3_error!(InvalidArgument, "{name} is not ASCII"))
            })
            .transpose()
    };
    Ok(StoredChecksums {
        crc32: trailer("x-amz-checksum-crc32")?.or_else(|| input.checksum_crc32.clone()),
        crc32c: trailer("x-amz-checksum-crc32c")?.or_else(|| input.checksum_crc32c.clone()),
        sha1: trailer("x-amz-checksum-sha1")?.or_else(|| input.checksum_sha1.clone()),
        sha256: trailer("x-amz-checksum-sha256")?.or_else(|| input.checksum_sha256.clone()),
        crc64nvme: trailer("x-amz-checksum-crc64nvme")?
            .or_else(|| input.checksum_crc64nvme.clone()),
    })
}

/// The precondition of a conditional PUT against the current object, if any.
fn check_put_preconditions(
    key: &str,
    current: Option<&ObjectMeta>,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    if let Some(condition) = if_none_match
        && let Some(current) = current
    {
        let matches = match condition {
            ETagCondition::Any => true,
            ETagCondition::ETag(etag) => etag.value() == current.etag,
        };
        if matches {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold (If-None-Match)"
            ));
        }
    }
    if let Some(condition) = if_match {
        let Some(current) = current else {
            return Err(no_such_key(key));
        };
        if let ETagCondition::ETag(etag) = condition
            && etag.value() != current.etag
        {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold (If-Match)"
            ));
        }
    }
    Ok(())
}

impl Backend {
    async fn create_bucket_op(&self, input: CreateBucketInput) -> S3Result<CreateBucketOutput> {
        let name = BucketName::parse(&input.bucket).ok_or_else(|| {
            s3_error!(InvalidBucketName, "Invalid bucket name {:?}", input.bucket)
        })?;
        if self.catalog.create_bucket(&name).await.map_err(internal)? {
            Ok(CreateBucketOutput {
                location: Some(format!("/{name}")),
            })
        } else {
            Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "Bucket {name} already exists and is yours"
            ))
        }
    }

    async fn put_object_op(&self, req: S3Request<PutObjectInput>) -> S3Result<PutObjectOutput> {
        let S3Request {
            mut input,
            trailing_headers,
            ..
        } = req;
        let bucket = self.bucket(&input.bucket)?;
        let key = parse_key(&input.key)?;

        // Read and hash the body before taking the key's lock: slow uploads block nobody.
        let mut hasher = checksum_hasher(&input)?;
        let mut md5 = Md5::new();
        let capacity = input
            .content_length
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let mut data = Vec::with_capacity(capacity.min(64 << 20));
        if let Some(mut body) = input.body.take() {
            while let Some(chunk) = body.next().await {
                let chunk =
                    chunk.map_err(|e| s3_error!(IncompleteBody, "Reading the body failed: {e}"))?;
                md5.update(&chunk);
                hasher.update(&chunk);
                data.extend_from_slice(&chunk);
            }
        }
        let md5 = md5.finalize();
        if let Some(content_md5) = &input.content_md5 {
            let claimed = base64::engine::general_purpose::STANDARD
                .decode(content_md5)
                .map_err(|_| s3_error!(InvalidDigest, "Content-MD5 is not base64"))?;
            if claimed != md5 {
                return Err(s3_error!(
                    BadDigest,
                    "The Content-MD5 you specified did not match what we received"
                ));
            }
        }
        let computed = hasher.finalize();
        let computed = StoredChecksums {
            crc32: computed.checksum_crc32,
            crc32c: computed.checksum_crc32c,
            sha1: computed.checksum_sha1,
            sha256: computed.checksum_sha256,
            crc64nvme: computed.checksum_crc64nvme,
        };
        let trailers = trailing_headers.as_ref().and_then(|t| t.take());
        verify_checksums(&computed, &claimed_checksums(&input, trailers.as_ref())?)?;

        let meta = ObjectMeta {
            key: key.as_str().to_owned(),
            size: data.len() as u64,
            etag: hex(&md5),
            last_modified_ms: record::unix_millis(std::time::SystemTime::now()),
            content_type: input.content_type.take(),
            metadata: input
                .metadata
                .take()
                .map(BTreeMap::from_iter)
                .unwrap_or_default(),
            checksums: computed,
        };
        let output = PutObjectOutput {
            e_tag: Some(ETag::Strong(meta.etag.clone())),
            checksum_crc32: meta.checksums.crc32.clone(),
            checksum_crc32c: meta.checksums.crc32c.clone(),
            checksum_sha1: meta.checksums.sha1.clone(),
            checksum_sha256: meta.checksums.sha256.clone(),
            checksum_crc64nvme: meta.checksums.crc64nvme.clone(),
            ..Default::default()
        };

        // Check + write + index as one step under the key's lock, in a task of its own so that a
        // client hanging up cannot interrupt it between the write and the index update.
        let path = self.catalog.layout().object_path(&bucket.name, &key);
        let entry = IndexEntry::of(&meta).ok_or_else(|| internal("ETag is not an MD5"))?;
        let locks = Arc::clone(&self.locks);
        let catalog = Arc::clone(&self.catalog);
        let (if_match, if_none_match) = (input.if_match.take(), input.if_none_match.take());
        let group = self.group.clone();
        let write = tokio::spawn(async move {
            let _guard = locks.lock(bucket.name.as_str(), key.as_str()).await;
            blocking(move || {
                let current = read_object_header(&path).map_err(internal)?;
                check_put_preconditions(
                    key.as_str(),
                    current.as_ref(),
                    if_match.as_ref(),
                    if_none_match.as_ref(),
                )?;
                let bytes = record::encode(&meta, &data);
                disk::write_durably(&path, &bytes, group.as_deref()).map_err(internal)?;
                catalog
                    .index()
                    .insert(&bucket.name, &entry)
                    .map_err(internal)
            })
            .await
        });
        write.await.map_err(internal)??;
        Ok(output)
    }

    async fn get_object_op(&self, input: GetObjectInput) -> S3Result<GetObjectOutput> {
        let bucket = self.bucket(&input.bucket)?;
        let key = parse_key(&input.key)?;
        let path = self.catalog.layout().object_path(&bucket.name, &key);
        let read = blocking(move || match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(internal(e)),
        });
        let bytes = read.await?.ok_or_else(|| no_such_key(key.as_str()))?;
        let (meta, body_range) = record::decode(&bytes).map_err(internal)?;
        let mut body = Bytes::from(bytes).slice(body_range);
        let mut content_range = None;
        if let Some(range) = &input.range {
            let wanted = range.check(meta.size)?;
            content_range = Some(format!(
                "bytes {}-{}/{}",
                wanted.start,
                wanted.end - 1,
                meta.size
            ));
            let start = usize::try_from(wanted.start).map_err(internal)?;
            let end = usize::try_from(wanted.end).map_err(internal)?;
            body = body.slice(start..end);
        }
        let checksums = if content_range.is_none()
            && input
                .checksum_mode
                .as_ref()
                .is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
        {
            meta.checksums.clone()
        } else {
            StoredChecksums::default()
        };
        Ok(GetObjectOutput {
            content_length: Some(size_i64(body.len() as u64)),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            content_type: meta.content_type.clone(),
            metadata: user_metadata(&meta),
            e_tag: Some(ETag::Strong(meta.etag.clone())),
            last_modified: Some(Timestamp::from(meta.last_modified())),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_crc64nvme: checksums.crc64nvme,
            ..Default::default()
        })
    }

    async fn head_object_op(&self, input: &HeadObjectInput) -> S3Result<HeadObjectOutput> {
        let bucket = self.bucket(&input.bucket)?;
        let key = parse_key(&input.key)?;
        let path = self.catalog.layout().object_path(&bucket.name, &key);
        let meta = blocking(move || read_object_header(&path).map_err(internal))
            .await?
            .ok_or_else(|| no_such_key(key.as_str()))?;
        let checksums = if input
            .checksum_mode
            .as_ref()
            .is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
        {
            meta.checksums.clone()
        } else {
            StoredChecksums::default()
        };
        Ok(HeadObjectOutput {
            content_length: Some(size_i64(meta.size)),
            accept_ranges: Some("bytes".to_owned()),
            content_type: meta.content_type.clone(),
            metadata: user_metadata(&meta),
            e_tag: Some(ETag::Strong(meta.etag.clone())),
            last_modified: Some(Timestamp::from(meta.last_modified())),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_crc64nvme: checksums.crc64nvme,
            ..Default::default()
        })
    }

    async fn delete_object_op(&self, input: DeleteObjectInput) -> S3Result<DeleteObjectOutput> {
        let bucket = self.bucket(&input.bucket)?;
        let key = parse_key(&input.key)?;
        let path = self.catalog.layout().object_path(&bucket.name, &key);
        let locks = Arc::clone(&self.locks);
        let catalog = Arc::clone(&self.catalog);
        let delete = tokio::spawn(async move {
            let _guard = locks.lock(bucket.name.as_str(), key.as_str()).await;
            blocking(move || {
                disk::remove_durably(&path).map_err(internal)?;
                catalog
                    .index()
                    .remove(&bucket.name, key.as_str())
                    .map_err(internal)
            })
            .await
        });
        delete.await.map_err(internal)??;
        Ok(DeleteObjectOutput::default())
    }

    async fn list_objects_v2_op(&self, input: ListObjectsV2Input) -> S3Result<ListObjectsV2Output> {
        let bucket = self.bucket(&input.bucket)?;
        let max_keys = match input.max_keys {
            None => listing::MAX_KEYS,
            Some(n) => usize::try_from(n)
                .map_err(|_| s3_error!(InvalidArgument, "max-keys must be >= 0"))?
                .min(listing::MAX_KEYS),
        };
        let resume_after = match input.continuation_token.as_deref() {
            Some(token) => Some(
                ContinuationToken::parse(token)
                    .ok_or_else(|| {
                        s3_error!(
                            InvalidArgument,
                            "The continuation token provided is incorrect"
                        )
                    })?
                    .resume_after(),
            ),
            None => input.start_after.clone(),
        };
        let prefix = input.prefix.clone().unwrap_or_default();
        let page = {
            let (catalog, bucket, prefix) = (
                Arc::clone(&self.catalog),
                Arc::clone(&bucket),
                prefix.clone(),
            );
            let delimiter = input.delimiter.clone();
            blocking(move || {
                let query = ListQuery {
                    prefix: &prefix,
                    delimiter: delimiter.as_deref(),
                    resume_after: resume_after.as_deref(),
                    max_keys,
                };
                catalog.index().list(&bucket.name, &query).map_err(internal)
            })
            .await?
        };
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let encode = |text: &str| {
            if url {
                url_encode(text)
            } else {
                text.to_owned()
            }
        };
        let key_count = page.objects.len() + page.common_prefixes.len();
        let contents: Vec<Object> = page
            .objects
            .iter()
            .map(|entry| Object {
                key: Some(encode(&entry.key)),
                size: Some(size_i64(entry.size)),
                e_tag: Some(ETag::Strong(entry.etag())),
                last_modified: Some(Timestamp::from(record::system_time(entry.last_modified_ms))),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                ..Default::default()
            })
            .collect();
        let common_prefixes: Vec<CommonPrefix> = page
            .common_prefixes
            .iter()
            .map(|p| CommonPrefix {
                prefix: Some(encode(p)),
            })
            .collect();
        Ok(ListObjectsV2Output {
            name: Some(bucket.name.as_str().to_owned()),
            prefix: Some(encode(&prefix)),
            delimiter: input.delimiter.as_deref().map(encode),
            start_after: input.start_after.as_deref().map(encode),
            encoding_type: input.encoding_type.clone(),
            max_keys: Some(i32::try_from(max_keys).unwrap_or(i32::MAX)),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            is_truncated: Some(page.is_truncated),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page
                .is_truncated
                .then(|| {
                    page.last_entry
                        .as_deref()
                        .map(|e| ContinuationToken::after(e).as_str().to_owned())
                })
                .flatten(),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            ..Default::default()
        })
    }

    fn list_buckets_op(&self) -> ListBucketsOutput {
        let buckets = self
            .catalog
            .buckets()
            .iter()
            .map(|b| BucketEntry {
                name: Some(b.name.as_str().to_owned()),
                creation_date: Some(Timestamp::from(b.created)),
                bucket_region: None,
            })
            .collect();
        ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        }
    }
}

#[async_trait::async_trait]
impl S3 for Backend {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.clone();
        self.observe(
            Operation::CreateBucket,
            Some(bucket),
            None,
            self.create_bucket_op(req.input),
        )
        .await
        .map(S3Response::new)
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = req.input.bucket;
        let work = async { self.bucket(&bucket).map(|_| HeadBucketOutput::default()) };
        self.observe(Operation::HeadBucket, Some(bucket.clone()), None, work)
            .await
            .map(S3Response::new)
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let work = async { Ok(self.list_buckets_op()) };
        self.observe(Operation::ListBuckets, None, None, work)
            .await
            .map(S3Response::new)
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.observe(
            Operation::PutObject,
            Some(bucket),
            Some(key),
            self.put_object_op(req),
        )
        .await
        .map(S3Response::new)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.observe(
            Operation::GetObject,
            Some(bucket),
            Some(key),
            self.get_object_op(req.input),
        )
        .await
        .map(S3Response::new)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let work = self.head_object_op(&req.input);
        self.observe(Operation::HeadObject, Some(bucket), Some(key), work)
            .await
            .map(S3Response::new)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.observe(
            Operation::DeleteObject,
            Some(bucket),
            Some(key),
            self.delete_object_op(req.input),
        )
        .await
        .map(S3Response::new)
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let work = self.list_objects_v2_op(req.input);
        self.observe_listing(
            Operation::ListObjectsV2,
            Some(bucket),
            Some(prefix),
            work,
            |out| Some(out.contents.as_ref().map_or(0, Vec::len)),
        )
        .await
        .map(S3Response::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(etag: &str) -> ObjectMeta {
        ObjectMeta {
            key: "k".to_owned(),
            size: 0,
            etag: etag.to_owned(),
            last_modified_ms: 0,
            content_type: None,
            metadata: BTreeMap::new(),
            checksums: StoredChecksums::default(),
        }
    }

    fn code(result: S3Result<()>) -> Option<String> {
        result.err().map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn put_preconditions_follow_s3() {
        let any = ETagCondition::Any;
        let right = ETagCondition::ETag(ETag::Strong("abc".to_owned()));
        let wrong = ETagCondition::ETag(ETag::Strong("def".to_owned()));
        let current = meta("abc");
        assert_eq!(
            code(check_put_preconditions("k", None, None, Some(&any))),
            None
        );
        assert_eq!(
            code(check_put_preconditions(
                "k",
                Some(&current),
                None,
                Some(&any)
            ))
            .as_deref(),
            Some("PreconditionFailed")
        );
        assert_eq!(
            code(check_put_preconditions(
                "k",
                Some(&current),
                Some(&right),
                None
            )),
            None
        );
        assert_eq!(
            code(check_put_preconditions(
                "k",
                Some(&current),
                Some(&wrong),
                None
            ))
            .as_deref(),
            Some("PreconditionFailed")
        );
        assert_eq!(
            code(check_put_preconditions("k", None, Some(&right), None)).as_deref(),
            Some("NoSuchKey")
        );
        assert_eq!(
            code(check_put_preconditions(
                "k",
                Some(&current),
                Some(&any),
                None
            )),
            None
        );
    }

    #[test]
    fn url_encoding_keeps_slashes() {
        assert_eq!(url_encode("a b/ü+"), "a%20b/%C3%BC%2B");
    }
}
