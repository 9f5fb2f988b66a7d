CREATE TABLE "coopfl"."models" (
	"model_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"architecture" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coopfl"."rounds" (
	"round_id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"result_version" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rounds_outcome_check" CHECK ("coopfl"."rounds"."outcome" in ('joined', 'refused', 'done', 'failed', 'error'))
);
--> statement-breakpoint
ALTER TABLE "coopfl"."consent" ADD COLUMN "synced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "coopfl"."privacy_spent" ADD COLUMN "unit" text DEFAULT 'record' NOT NULL;--> statement-breakpoint
ALTER TABLE "coopfl"."privacy_spent" ADD COLUMN "mechanism" text DEFAULT 'gaussian' NOT NULL;--> statement-breakpoint
ALTER TABLE "coopfl"."privacy_spent" ADD COLUMN "params" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "rounds_updated_at_idx" ON "coopfl"."rounds" USING btree ("updated_at");--> statement-breakpoint
ALTER TABLE "coopfl"."privacy_spent" ADD CONSTRAINT "privacy_spent_unit_check" CHECK ("coopfl"."privacy_spent"."unit" in ('member', 'record'));--> statement-breakpoint
ALTER TABLE "coopfl"."privacy_spent" ADD CONSTRAINT "privacy_spent_mechanism_check" CHECK ("coopfl"."privacy_spent"."mechanism" in ('gaussian', 'skellam'));