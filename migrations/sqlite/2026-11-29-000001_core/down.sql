DROP TABLE rate_limits;
DROP TABLE comments;
DROP TABLE articles;
DROP TABLE sessions;
DROP TABLE users;
