CREATE SCHEMA "coopfl";
--> statement-breakpoint
CREATE SCHEMA "shop";
--> statement-breakpoint
CREATE TABLE "coopfl"."consent" (
	"model_id" text PRIMARY KEY NOT NULL,
	"participate" boolean NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shop"."customers" (
	"store_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"created_at" timestamp with time zone,
	"country" text,
	CONSTRAINT "customers_pkey" PRIMARY KEY("store_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "shop"."daily_sales" (
	"store_id" text NOT NULL,
	"date" date NOT NULL,
	"catalog_key" text NOT NULL,
	"units" double precision NOT NULL,
	"revenue" numeric(14, 4),
	"open" boolean,
	"promo" boolean,
	"holiday" boolean,
	CONSTRAINT "daily_sales_pkey" PRIMARY KEY("store_id","date","catalog_key"),
	CONSTRAINT "daily_sales_units_nonnegative" CHECK ("shop"."daily_sales"."units" >= 0)
);
--> statement-breakpoint
CREATE TABLE "shop"."fraud_labels" (
	"store_id" text NOT NULL,
	"order_id" text NOT NULL,
	"is_fraud" boolean NOT NULL,
	CONSTRAINT "fraud_labels_pkey" PRIMARY KEY("store_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "coopfl"."identity_keys" (
	"purpose" text PRIMARY KEY NOT NULL,
	"public_key" "bytea",
	"secret_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_keys_purpose_check" CHECK ("coopfl"."identity_keys"."purpose" in ('signing', 'secagg', 'customer_hash'))
);
--> statement-breakpoint
CREATE TABLE "coopfl"."import_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"rows_imported" integer DEFAULT 0 NOT NULL,
	"rows_rejected" integer DEFAULT 0 NOT NULL,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "import_runs_source_check" CHECK ("coopfl"."import_runs"."source" in ('canonical', 'shopify')),
	CONSTRAINT "import_runs_status_check" CHECK ("coopfl"."import_runs"."status" in ('running', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "coopfl"."local_metrics" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"version" integer,
	"name" text NOT NULL,
	"value" double precision NOT NULL,
	"count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coopfl"."model_versions" (
	"model_id" text NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"weights" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_pkey" PRIMARY KEY("model_id","version","source"),
	CONSTRAINT "model_versions_source_check" CHECK ("coopfl"."model_versions"."source" in ('coordinator', 'local')),
	CONSTRAINT "model_versions_version_nonnegative" CHECK ("coopfl"."model_versions"."version" >= 0)
);
--> statement-breakpoint
CREATE TABLE "shop"."order_items" (
	"store_id" text NOT NULL,
	"order_id" text NOT NULL,
	"product_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price" numeric(14, 4),
	CONSTRAINT "order_items_pkey" PRIMARY KEY("store_id","order_id","product_id"),
	CONSTRAINT "order_items_quantity_positive" CHECK ("shop"."order_items"."quantity" > 0),
	CONSTRAINT "order_items_unit_price_nonnegative" CHECK ("shop"."order_items"."unit_price" >= 0)
);
--> statement-breakpoint
CREATE TABLE "shop"."orders" (
	"store_id" text NOT NULL,
	"order_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"status" text,
	"payment_method" text,
	"billing_country" text,
	"shipping_country" text,
	"total" numeric(14, 4),
	"risk_level" text,
	CONSTRAINT "orders_pkey" PRIMARY KEY("store_id","order_id"),
	CONSTRAINT "orders_risk_level_check" CHECK ("shop"."orders"."risk_level" in ('low', 'medium', 'high'))
);
--> statement-breakpoint
CREATE TABLE "coopfl"."privacy_spent" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"round_id" text,
	"noise_multiplier" double precision NOT NULL,
	"sampling_rate" double precision NOT NULL,
	"steps" integer NOT NULL,
	"epsilon" double precision NOT NULL,
	"delta" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "privacy_spent_ranges" CHECK ("coopfl"."privacy_spent"."noise_multiplier" > 0 and "coopfl"."privacy_spent"."sampling_rate" > 0 and "coopfl"."privacy_spent"."sampling_rate" <= 1 and "coopfl"."privacy_spent"."steps" >= 1 and "coopfl"."privacy_spent"."epsilon" >= 0 and "coopfl"."privacy_spent"."delta" > 0 and "coopfl"."privacy_spent"."delta" < 1)
);
--> statement-breakpoint
CREATE TABLE "shop"."products" (
	"store_id" text NOT NULL,
	"product_id" text NOT NULL,
	"catalog_key" text NOT NULL,
	"category" text,
	"price" numeric(14, 4),
	CONSTRAINT "products_pkey" PRIMARY KEY("store_id","product_id"),
	CONSTRAINT "products_price_nonnegative" CHECK ("shop"."products"."price" >= 0)
);
--> statement-breakpoint
CREATE TABLE "shop"."stores" (
	"store_id" text PRIMARY KEY NOT NULL,
	"currency" text
);
--> statement-breakpoint
CREATE INDEX "local_metrics_model_name_idx" ON "coopfl"."local_metrics" USING btree ("model_id","name","created_at");--> statement-breakpoint
CREATE INDEX "order_items_product_idx" ON "shop"."order_items" USING btree ("store_id","product_id");--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "shop"."orders" USING btree ("store_id","customer_id");--> statement-breakpoint
CREATE INDEX "orders_created_at_idx" ON "shop"."orders" USING btree ("store_id","created_at");--> statement-breakpoint
CREATE INDEX "privacy_spent_model_idx" ON "coopfl"."privacy_spent" USING btree ("model_id");--> statement-breakpoint
CREATE INDEX "products_catalog_key_idx" ON "shop"."products" USING btree ("catalog_key");