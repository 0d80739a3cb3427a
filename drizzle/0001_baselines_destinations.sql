CREATE TABLE "device_baselines" (
	"device_id" bigint PRIMARY KEY NOT NULL,
	"algorithm" text NOT NULL,
	"model" jsonb NOT NULL,
	"feature_set" text NOT NULL,
	"window_minutes" integer NOT NULL,
	"windows_used" integer NOT NULL,
	"trained_from" timestamp with time zone NOT NULL,
	"trained_to" timestamp with time zone NOT NULL,
	"threshold" double precision NOT NULL,
	"stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"fitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_scored_window" timestamp with time zone,
	"windows_scored" integer DEFAULT 0 NOT NULL,
	"anomalies" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_destination_profiles" (
	"device_id" bigint PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'learning' NOT NULL,
	"learning_hours" real NOT NULL,
	"learning_started" timestamp with time zone,
	"learning_until" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_destination_profiles_status_check" CHECK ("device_destination_profiles"."status" in ('learning','enforcing'))
);
--> statement-breakpoint
CREATE TABLE "device_destinations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"source" text DEFAULT 'learned' NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"first_seen" timestamp with time zone,
	"last_seen" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_destinations_kind_check" CHECK ("device_destinations"."kind" in ('domain','endpoint','protocol')),
	CONSTRAINT "device_destinations_source_check" CHECK ("device_destinations"."source" in ('learned','user'))
);
--> statement-breakpoint
CREATE TABLE "device_type_baselines" (
	"device_type" text PRIMARY KEY NOT NULL,
	"algorithm" text NOT NULL,
	"model" jsonb NOT NULL,
	"feature_set" text NOT NULL,
	"window_minutes" integer NOT NULL,
	"steps" integer NOT NULL,
	"devices" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"sequences" integer NOT NULL,
	"trained_to" timestamp with time zone NOT NULL,
	"threshold" double precision NOT NULL,
	"stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"fitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_scored_window" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "device_baselines" ADD CONSTRAINT "device_baselines_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_destination_profiles" ADD CONSTRAINT "device_destination_profiles_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_destinations" ADD CONSTRAINT "device_destinations_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "device_destinations_key" ON "device_destinations" USING btree ("device_id","kind","value");