DROP TABLE votes;
