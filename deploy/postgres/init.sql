-- One database per service on one PostgreSQL server (services/shared/config.py: aos_<service>).
CREATE DATABASE aos_identity;
CREATE DATABASE aos_billing;
CREATE DATABASE aos_vehicle_data;
CREATE DATABASE aos_shop;
CREATE DATABASE aos_air;
CREATE DATABASE aos_programming;
CREATE DATABASE aos_audit;
CREATE DATABASE aos_parts;
CREATE DATABASE aos_partners;
