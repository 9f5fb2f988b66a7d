CREATE TABLE "benchmark_results" (
	"id" serial PRIMARY KEY NOT NULL,
	"round_id" text NOT NULL,
	"period" text NOT NULL,
	"peer_group" text NOT NULL,
	"kpi" text NOT NULL,
	"status" text NOT NULL,
	"release" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "benchmark_results_status_check" CHECK ("benchmark_results"."status" in ('released', 'withheld'))
);
--> statement-breakpoint
ALTER TABLE "rounds" DROP CONSTRAINT "rounds_kind_check";--> statement-breakpoint
ALTER TABLE "privacy_ledger" DROP CONSTRAINT "privacy_ledger_model_id_models_id_fk";
--> statement-breakpoint
ALTER TABLE "rounds" ALTER COLUMN "model_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "rounds" ALTER COLUMN "base_version" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "benchmark_results" ADD CONSTRAINT "benchmark_results_round_id_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."rounds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "benchmark_results_round_kpi_idx" ON "benchmark_results" USING btree ("round_id","kpi");--> statement-breakpoint
CREATE INDEX "benchmark_results_period_idx" ON "benchmark_results" USING btree ("period","peer_group","kpi");--> statement-breakpoint
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_model_by_kind" CHECK (("rounds"."kind" = 'benchmark') = ("rounds"."model_id" is null and "rounds"."base_version" is null));--> statement-breakpoint
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_kind_check" CHECK ("rounds"."kind" in ('train', 'eval', 'benchmark'));