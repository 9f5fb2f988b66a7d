CREATE TABLE "admins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admins_username_unique" UNIQUE("username"),
	CONSTRAINT "admins_role_check" CHECK ("admins"."role" in ('admin', 'observer'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent" (
	"member_id" text PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invites" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"created_by" text NOT NULL,
	"note" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"member_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invites_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "member_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"member_id" text NOT NULL,
	"public_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "member_keys_public_key_length" CHECK (octet_length("member_keys"."public_key") = 32)
);
--> statement-breakpoint
CREATE TABLE "members" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"profile" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"approved_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "members_status_check" CHECK ("members"."status" in ('pending', 'approved', 'revoked'))
);
--> statement-breakpoint
CREATE TABLE "metrics" (
	"id" serial PRIMARY KEY NOT NULL,
	"round_id" text,
	"model_id" text,
	"name" text NOT NULL,
	"value" double precision NOT NULL,
	"count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"version" integer NOT NULL,
	"weights" "bytea" NOT NULL,
	"optimizer_state" "bytea",
	"round_id" text,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_model_version_key" UNIQUE("model_id","version"),
	CONSTRAINT "model_versions_version_nonnegative" CHECK ("model_versions"."version" >= 0)
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"dim" integer NOT NULL,
	"config" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "models_dim_positive" CHECK ("models"."dim" > 0)
);
--> statement-breakpoint
CREATE TABLE "privacy_ledger" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"member_id" text NOT NULL,
	"round_id" text,
	"unit" text NOT NULL,
	"mechanism" text NOT NULL,
	"noise_multiplier" double precision NOT NULL,
	"sampling_rate" double precision NOT NULL,
	"steps" integer NOT NULL,
	"epsilon" double precision NOT NULL,
	"delta" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "privacy_ledger_unit_check" CHECK ("privacy_ledger"."unit" in ('member', 'record')),
	CONSTRAINT "privacy_ledger_ranges" CHECK ("privacy_ledger"."noise_multiplier" > 0 and "privacy_ledger"."sampling_rate" > 0 and "privacy_ledger"."sampling_rate" <= 1 and "privacy_ledger"."steps" >= 1 and "privacy_ledger"."epsilon" >= 0 and "privacy_ledger"."delta" > 0 and "privacy_ledger"."delta" < 1)
);
--> statement-breakpoint
CREATE TABLE "request_nonces" (
	"member_id" text NOT NULL,
	"nonce" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "request_nonces_member_id_nonce_pk" PRIMARY KEY("member_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "round_participants" (
	"round_id" text NOT NULL,
	"member_id" text NOT NULL,
	"client_index" integer NOT NULL,
	"status" text DEFAULT 'selected' NOT NULL,
	CONSTRAINT "round_participants_round_id_member_id_pk" PRIMARY KEY("round_id","member_id"),
	CONSTRAINT "round_participants_round_client_index_key" UNIQUE("round_id","client_index"),
	CONSTRAINT "round_participants_client_index_nonnegative" CHECK ("round_participants"."client_index" >= 0)
);
--> statement-breakpoint
CREATE TABLE "rounds" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"config" jsonb NOT NULL,
	"base_version" integer NOT NULL,
	"result_version" integer,
	"error" text,
	"stage_deadline" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "rounds_kind_check" CHECK ("rounds"."kind" in ('train', 'eval')),
	CONSTRAINT "rounds_status_check" CHECK ("rounds"."status" in ('open', 'advertise', 'shares', 'masked', 'unmask', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "secagg_events" (
	"round_id" text NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"stage" text NOT NULL,
	"client_index" integer,
	"payload" "bytea",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secagg_events_round_id_seq_pk" PRIMARY KEY("round_id","seq"),
	CONSTRAINT "secagg_events_kind_check" CHECK ("secagg_events"."kind" in ('message', 'deadline')),
	CONSTRAINT "secagg_events_seq_nonnegative" CHECK ("secagg_events"."seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"token_hash" "bytea" PRIMARY KEY NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"role" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_subject_kind_check" CHECK ("sessions"."subject_kind" in ('admin', 'member')),
	CONSTRAINT "sessions_role_check" CHECK ("sessions"."role" in ('admin', 'observer', 'member'))
);
--> statement-breakpoint
ALTER TABLE "consent" ADD CONSTRAINT "consent_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_keys" ADD CONSTRAINT "member_keys_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "privacy_ledger" ADD CONSTRAINT "privacy_ledger_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "privacy_ledger" ADD CONSTRAINT "privacy_ledger_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "privacy_ledger" ADD CONSTRAINT "privacy_ledger_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "request_nonces" ADD CONSTRAINT "request_nonces_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "round_participants" ADD CONSTRAINT "round_participants_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "round_participants" ADD CONSTRAINT "round_participants_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_base_version_fk" FOREIGN KEY ("model_id","base_version") REFERENCES "public"."model_versions"("model_id","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_result_version_fk" FOREIGN KEY ("model_id","result_version") REFERENCES "public"."model_versions"("model_id","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "secagg_events" ADD CONSTRAINT "secagg_events_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_subject_idx" ON "audit_log" USING btree ("subject");--> statement-breakpoint
CREATE INDEX "invites_member_idx" ON "invites" USING btree ("member_id");--> statement-breakpoint
CREATE UNIQUE INDEX "member_keys_one_active_idx" ON "member_keys" USING btree ("member_id") WHERE "member_keys"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "member_keys_public_key_idx" ON "member_keys" USING btree ("public_key");--> statement-breakpoint
CREATE INDEX "members_status_idx" ON "members" USING btree ("status");--> statement-breakpoint
CREATE INDEX "metrics_model_name_idx" ON "metrics" USING btree ("model_id","name","created_at");--> statement-breakpoint
CREATE INDEX "metrics_round_idx" ON "metrics" USING btree ("round_id");--> statement-breakpoint
CREATE INDEX "privacy_ledger_model_member_idx" ON "privacy_ledger" USING btree ("model_id","member_id");--> statement-breakpoint
CREATE UNIQUE INDEX "privacy_ledger_round_member_idx" ON "privacy_ledger" USING btree ("round_id","member_id","model_id");--> statement-breakpoint
CREATE INDEX "request_nonces_expires_at_idx" ON "request_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "round_participants_member_idx" ON "round_participants" USING btree ("member_id");--> statement-breakpoint
CREATE INDEX "rounds_model_status_idx" ON "rounds" USING btree ("model_id","status");--> statement-breakpoint
CREATE INDEX "rounds_status_deadline_idx" ON "rounds" USING btree ("status","stage_deadline");--> statement-breakpoint
CREATE INDEX "sessions_subject_idx" ON "sessions" USING btree ("subject_kind","subject_id");--> statement-breakpoint
CREATE INDEX "sessions_expires_at_idx" ON "sessions" USING btree ("expires_at");