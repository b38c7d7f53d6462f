// The PostgreSQL backend lands here (issue #7).
