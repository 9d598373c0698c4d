-- The schema that the hand-written migration 20261122000000_Initial gave a PostgreSQL database
-- (`dotnet ef migrations script` of that migration; ProductVersion is the EF Core release that applied it).
-- A database created this way must keep migrating: see PersistenceTests.

CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" character varying(150) NOT NULL,
    "ProductVersion" character varying(32) NOT NULL,
    CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY ("MigrationId")
);

START TRANSACTION;
CREATE TABLE users (
    id uuid NOT NULL,
    username character varying(64) NOT NULL,
    normalized_username character varying(64) NOT NULL,
    email character varying(254),
    normalized_email character varying(254),
    password_hash text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT "PK_users" PRIMARY KEY (id)
);

CREATE TABLE chatrooms (
    id uuid NOT NULL,
    kind integer NOT NULL,
    name character varying(100) NOT NULL,
    description character varying(1000),
    is_private boolean NOT NULL,
    created_by uuid,
    created_at timestamp with time zone NOT NULL,
    last_seq bigint NOT NULL,
    last_activity_at timestamp with time zone NOT NULL,
    direct_key character varying(65),
    CONSTRAINT "PK_chatrooms" PRIMARY KEY (id)
);

CREATE TABLE login_sessions (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_login_sessions" PRIMARY KEY (id),
    CONSTRAINT "FK_login_sessions_users_user_id" FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE refresh_tokens (
    id uuid NOT NULL,
    session_id uuid NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    spent_at timestamp with time zone,
    CONSTRAINT "PK_refresh_tokens" PRIMARY KEY (id),
    CONSTRAINT "FK_refresh_tokens_login_sessions_session_id" FOREIGN KEY (session_id) REFERENCES login_sessions (id) ON DELETE CASCADE
);

CREATE TABLE members (
    chatroom_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role integer NOT NULL,
    joined_at timestamp with time zone NOT NULL,
    last_read_seq bigint NOT NULL,
    CONSTRAINT "PK_members" PRIMARY KEY (chatroom_id, user_id),
    CONSTRAINT "FK_members_chatrooms_chatroom_id" FOREIGN KEY (chatroom_id) REFERENCES chatrooms (id) ON DELETE CASCADE,
    CONSTRAINT "FK_members_users_user_id" FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE messages (
    id uuid NOT NULL,
    chatroom_id uuid NOT NULL,
    seq bigint NOT NULL,
    sender_id uuid NOT NULL,
    recipient_id uuid,
    content character varying(4000) NOT NULL,
    client_message_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    edited_at timestamp with time zone,
    deleted_at timestamp with time zone,
    CONSTRAINT "PK_messages" PRIMARY KEY (id),
    CONSTRAINT "FK_messages_chatrooms_chatroom_id" FOREIGN KEY (chatroom_id) REFERENCES chatrooms (id) ON DELETE CASCADE,
    CONSTRAINT "FK_messages_users_recipient_id" FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT "FK_messages_users_sender_id" FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_users_normalized_username" ON users (normalized_username);

CREATE UNIQUE INDEX "IX_users_normalized_email" ON users (normalized_email);

CREATE INDEX "IX_login_sessions_user_id" ON login_sessions (user_id);

CREATE UNIQUE INDEX "IX_refresh_tokens_token_hash" ON refresh_tokens (token_hash);

CREATE INDEX "IX_refresh_tokens_session_id" ON refresh_tokens (session_id);

CREATE UNIQUE INDEX "IX_chatrooms_direct_key" ON chatrooms (direct_key);

CREATE INDEX "IX_chatrooms_is_private_id" ON chatrooms (is_private, id);

CREATE INDEX "IX_members_user_id" ON members (user_id);

CREATE UNIQUE INDEX "IX_messages_chatroom_id_seq" ON messages (chatroom_id, seq);

CREATE UNIQUE INDEX "IX_messages_sender_id_chatroom_id_client_message_id" ON messages (sender_id, chatroom_id, client_message_id);

CREATE INDEX "IX_messages_recipient_id" ON messages (recipient_id);

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261122000000_Initial', '10.0.14');

COMMIT;

