-- Optional fine-grained permissions per role, such as posts:write.
CREATE TABLE role_permissions (
    role_name  TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_name, permission)
);
