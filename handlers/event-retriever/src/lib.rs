//! Event Retriever Lambda: GET /events/{eventId} and GET /events queries with pagination.
