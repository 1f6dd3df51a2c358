-- One database per service that owns data (docker-entrypoint-initdb.d runs this once, on an empty volume).
CREATE DATABASE xinfang_intake OWNER xinfang;
CREATE DATABASE xinfang_reporting OWNER xinfang;
