-- The schema that the hand-written migration 20261122000000_Initial gave a SQLite database
-- (`dotnet ef migrations script` of that migration; ProductVersion is the EF Core release that applied it).
-- A database created this way must keep migrating: see PersistenceTests.

CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);

BEGIN TRANSACTION;
CREATE TABLE "users" (
    "id" TEXT NOT NULL CONSTRAINT "PK_users" PRIMARY KEY,
    "username" TEXT NOT NULL,
    "normalized_username" TEXT NOT NULL,
    "email" TEXT NULL,
    "normalized_email" TEXT NULL,
    "password_hash" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "deleted_at" INTEGER NULL
);

CREATE TABLE "chatrooms" (
    "id" TEXT NOT NULL CONSTRAINT "PK_chatrooms" PRIMARY KEY,
    "kind" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NULL,
    "is_private" INTEGER NOT NULL,
    "created_by" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "last_seq" INTEGER NOT NULL,
    "last_activity_at" INTEGER NOT NULL,
    "direct_key" TEXT NULL
);

CREATE TABLE "login_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_login_sessions" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "expires_at" INTEGER NOT NULL,
    "revoked_at" INTEGER NULL,
    CONSTRAINT "FK_login_sessions_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "refresh_tokens" (
    "id" TEXT NOT NULL CONSTRAINT "PK_refresh_tokens" PRIMARY KEY,
    "session_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "spent_at" INTEGER NULL,
    CONSTRAINT "FK_refresh_tokens_login_sessions_session_id" FOREIGN KEY ("session_id") REFERENCES "login_sessions" ("id") ON DELETE CASCADE
);

CREATE TABLE "members" (
    "chatroom_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "role" INTEGER NOT NULL,
    "joined_at" INTEGER NOT NULL,
    "last_read_seq" INTEGER NOT NULL,
    CONSTRAINT "PK_members" PRIMARY KEY ("chatroom_id", "user_id"),
    CONSTRAINT "FK_members_chatrooms_chatroom_id" FOREIGN KEY ("chatroom_id") REFERENCES "chatrooms" ("id") ON DELETE CASCADE,
    CONSTRAINT "FK_members_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "messages" (
    "id" TEXT NOT NULL CONSTRAINT "PK_messages" PRIMARY KEY,
    "chatroom_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "sender_id" TEXT NOT NULL,
    "recipient_id" TEXT NULL,
    "content" TEXT NOT NULL,
    "client_message_id" TEXT NULL,
    "created_at" INTEGER NOT NULL,
    "edited_at" INTEGER NULL,
    "deleted_at" INTEGER NULL,
    CONSTRAINT "FK_messages_chatrooms_chatroom_id" FOREIGN KEY ("chatroom_id") REFERENCES "chatrooms" ("id") ON DELETE CASCADE,
    CONSTRAINT "FK_messages_users_recipient_id" FOREIGN KEY ("recipient_id") REFERENCES "users" ("id") ON DELETE RESTRICT,
    CONSTRAINT "FK_messages_users_sender_id" FOREIGN KEY ("sender_id") REFERENCES "users" ("id") ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "IX_users_normalized_username" ON "users" ("normalized_username");

CREATE UNIQUE INDEX "IX_users_normalized_email" ON "users" ("normalized_email");

CREATE INDEX "IX_login_sessions_user_id" ON "login_sessions" ("user_id");

CREATE UNIQUE INDEX "IX_refresh_tokens_token_hash" ON "refresh_tokens" ("token_hash");

CREATE INDEX "IX_refresh_tokens_session_id" ON "refresh_tokens" ("session_id");

CREATE UNIQUE INDEX "IX_chatrooms_direct_key" ON "chatrooms" ("direct_key");

CREATE INDEX "IX_chatrooms_is_private_id" ON "chatrooms" ("is_private", "id");

CREATE INDEX "IX_members_user_id" ON "members" ("user_id");

CREATE UNIQUE INDEX "IX_messages_chatroom_id_seq" ON "messages" ("chatroom_id", "seq");

CREATE UNIQUE INDEX "IX_messages_sender_id_chatroom_id_client_message_id" ON "messages" ("sender_id", "chatroom_id", "client_message_id");

CREATE INDEX "IX_messages_recipient_id" ON "messages" ("recipient_id");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261122000000_Initial', '10.0.14');

COMMIT;

