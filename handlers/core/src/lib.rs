//! Call-flow event core: event model, validation, ids, S3 key layout, index, continuation tokens, store.
