/*
 * Builds the OpenAPI 3.1 document from the route table (see routes.c) and
 * serves it, with the offline reference page, at /openapi.json and /docs.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "registry/train.h"

#define JSON(...) #__VA_ARGS__

/* Shapes shared by several operations. */
static const char components_json[] = JSON({
	"schemas": {
		"Error": {
			"type": "object",
			"required": ["error", "detail", "timestamp", "request_id"],
			"properties": {
				"error": {"type": "string", "description": "Machine-readable code, e.g. not_found", "example": "not_found"},
				"detail": {"type": "string", "description": "What went wrong, for people"},
				"timestamp": {"type": "string", "format": "date-time"},
				"request_id": {"type": "string", "description": "Also in the X-Request-Id header"}
			}
		},
		"Health": {
			"type": "object",
			"required": ["status", "timestamp", "version", "checks"],
			"properties": {
				"status": {"type": "string", "enum": ["healthy", "unhealthy"]},
				"timestamp": {"type": "string", "format": "date-time"},
				"version": {"type": "string"},
				"checks": {
					"type": "object",
					"description": "\"ok\" or an error message per dependency",
					"properties": {"database": {"type": "string"}, "storage": {"type": "string"}},
					"additionalProperties": {"type": "string"}
				}
			}
		},
		"SessionCreate": {
			"type": "object",
			"properties": {
				"session_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$", "example": "my-session"}
			}
		},
		"Session": {
			"type": "object",
			"required": ["session_id", "created_at", "updated_at"],
			"properties": {
				"session_id": {"type": "string"},
				"created_at": {"type": "string", "format": "date-time"},
				"updated_at": {"type": "string", "format": "date-time"},
				"file_count": {"type": "integer", "minimum": 0, "description": "Files in the session (not in the create response)"}
			}
		},
		"SessionList": {
			"type": "object",
			"required": ["sessions", "total", "limit", "offset"],
			"properties": {
				"sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
				"total": {"type": "integer"},
				"limit": {"type": "integer"},
				"offset": {"type": "integer"}
			}
		},
		"File": {
			"type": "object",
			"required": ["file_id", "session_id", "filename", "file_type", "size", "sha256", "storage_path", "uploaded_at", "url"],
			"properties": {
				"file_id": {"type": "string"},
				"session_id": {"type": "string"},
				"filename": {"type": "string", "description": "The name as uploaded, without any directory part or control characters"},
				"file_type": {"type": "string", "description": "MIME type found in the bytes", "example": "text/csv"},
				"size": {"type": "integer", "minimum": 0},
				"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
				"storage_path": {"type": "string", "description": "The object's key in storage"},
				"uploaded_at": {"type": "string", "format": "date-time"},
				"url": {"type": "string", "description": "Where to download it"}
			}
		},
		"FileList": {
			"type": "object",
			"required": ["files"],
			"properties": {"files": {"type": "array", "items": {"$ref": "#/components/schemas/File"}}}
		},
		"FilePage": {
			"type": "object",
			"required": ["session_id", "files", "total", "limit", "offset"],
			"properties": {
				"session_id": {"type": "string"},
				"files": {"type": "array", "items": {"$ref": "#/components/schemas/File"}},
				"total": {"type": "integer"},
				"limit": {"type": "integer"},
				"offset": {"type": "integer"}
			}
		},
		"FileUpload": {
			"type": "object",
			"required": ["session_id", "file"],
			"properties": {
				"session_id": {"type": "string"},
				"file": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}, "description": "One or more file parts (any field name)"}
			}
		},
		"Dataset": {
			"type": "object",
			"required": ["id", "dataset_id", "name", "status", "rows", "columns", "size_bytes", "uploaded_at"],
			"properties": {
				"id": {"type": "string", "description": "The same as dataset_id (seed 003's client reads id)"},
				"dataset_id": {"type": "string"},
				"name": {"type": "string"},
				"description": {"type": "string"},
				"status": {"type": "string", "enum": ["processing", "ready", "failed"]},
				"progress": {"type": "integer", "minimum": 0, "maximum": 100, "description": "Percent of the ingest done"},
				"error": {"type": ["string", "null"], "description": "Why the ingest failed"},
				"rows": {"type": "integer"},
				"columns": {"type": "integer"},
				"size_bytes": {"type": "integer", "description": "Size of the uploaded file"},
				"data_bytes": {"type": "integer", "description": "Size of the dataset file (SQLite)"},
				"format": {"type": "string", "description": "csv, xlsx or xls (empty while detecting)"},
				"source_name": {"type": "string", "description": "The uploaded file's name"},
				"encoding": {"type": ["string", "null"], "description": "CSV: the encoding read (UTF-8, CP949, UTF-16LE, ...)"},
				"delimiter": {"type": ["string", "null"]},
				"sheet": {"type": ["string", "null"], "description": "Spreadsheets: the sheet read"},
				"version": {"type": "integer"},
				"parent_id": {"type": ["string", "null"]},
				"uploaded_at": {"type": "string", "format": "date-time"},
				"updated_at": {"type": "string", "format": "date-time"},
				"job_id": {"type": "string"},
				"columns_info": {"type": "array", "items": {"$ref": "#/components/schemas/DatasetColumn"}},
				"warnings": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "line": {"type": "integer"}}}}
			}
		},
		"DatasetColumn": {
			"type": "object",
			"required": ["name", "type"],
			"properties": {
				"name": {"type": "string", "description": "Unique column name (the table's)"},
				"source_name": {"type": "string", "description": "The header as written"},
				"type": {"type": "string", "enum": ["integer", "real", "boolean", "date", "datetime", "time", "text"]},
				"role": {"type": ["string", "null"], "enum": ["latitude", "longitude", null]},
				"categorical": {"type": "boolean"},
				"percent": {"type": "boolean", "description": "Values were written with %; stored as fractions"},
				"unique": {"type": ["integer", "null"], "description": "Distinct non-null values (estimated past 10,000)"},
				"nulls": {"type": ["integer", "null"]},
				"profile": {"type": "object", "description": "count, nulls, distinct, min, max, mean, std, quantiles, top values, histogram"}
			}
		},
		"DatasetList": {
			"type": "object",
			"required": ["datasets", "total", "limit", "offset"],
			"properties": {
				"datasets": {"type": "array", "items": {"$ref": "#/components/schemas/Dataset"}},
				"total": {"type": "integer"},
				"limit": {"type": "integer"},
				"offset": {"type": "integer"}
			}
		},
		"DatasetPage": {
			"type": "object",
			"required": ["columns", "rows", "total", "offset", "limit"],
			"properties": {
				"dataset_id": {"type": "string"},
				"columns": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "type": {"type": "string"}}}},
				"rows": {"type": "array", "items": {"type": "array", "items": {}}, "description": "One array of values per row, in column order; typed (numbers, booleans, ISO dates as strings, null)"},
				"total": {"type": "integer", "description": "Rows matching the filters"},
				"offset": {"type": "integer"},
				"limit": {"type": "integer"}
			}
		},
		"DatasetUpload": {
			"type": "object",
			"required": ["file"],
			"properties": {
				"file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "CSV, TSV, XLSX or XLS"},
				"name": {"type": "string", "description": "Default: the file name without its extension"},
				"description": {"type": "string"},
				"sheet": {"type": "string", "description": "Spreadsheets: a sheet name or 0-based index (default: the first)"},
				"encoding": {"type": "string", "description": "CSV: override detection (utf-8, cp949, euc-kr, utf-16, latin-1, windows-1252, ...)"},
				"delimiter": {"type": "string", "description": "CSV: , ; | or tab (default: sniffed)"},
				"header": {"type": "string", "enum": ["auto", "true", "false"], "description": "Whether the first row names the columns (default auto)"},
				"strict": {"type": "string", "enum": ["true", "false"], "description": "Refuse rows with the wrong number of fields instead of padding or cutting them"},
				"format": {"type": "string", "enum": ["csv", "tsv", "xlsx", "xls"], "description": "Default: detected from the bytes"}
			}
		},
		"Query": {
			"type": "object",
			"required": ["sql"],
			"properties": {
				"sql": {"type": "string", "description": "One read-only statement over the table data (at most 100000 bytes)"},
				"params": {"description": "Values for ? (an array, in order) or :name, @name, $name (an object); numbers, strings, booleans (1/0) or null", "oneOf": [{"type": "array"}, {"type": "object"}, {"type": "null"}]},
				"limit": {"type": "integer", "minimum": 1, "description": "Most rows in the answer (default 1000; at most SHEAF_QUERY_MAX_ROWS unless streamed; streamed default: all)"},
				"stream": {"type": "boolean", "description": "Send the rows as they are read, in constant memory"}
			}
		},
		"QueryResult": {
			"type": "object",
			"required": ["columns", "rows", "row_count", "truncated", "elapsed_ms", "cached"],
			"properties": {
				"columns": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "type": {"type": "string", "description": "The dataset column's type (integer, real, boolean, date, datetime, time, text) when the result column is one; otherwise the first row's value type (integer, real, text, or null)"}}}},
				"rows": {"type": "array", "items": {"type": "array", "items": {}}, "description": "One array of values per row, in column order"},
				"row_count": {"type": "integer"},
				"truncated": {"type": "boolean", "description": "Rows were left out: past limit or SHEAF_QUERY_MAX_BYTES"},
				"elapsed_ms": {"type": "integer"},
				"cached": {"type": "boolean", "description": "Answered from the cache"}
			}
		},
		"Transform": {
			"type": "object",
			"required": ["steps"],
			"properties": {
				"name": {"type": "string", "description": "Default: the source's name with (transformed)"},
				"description": {"type": "string"},
				"steps": {"type": "array", "minItems": 1, "maxItems": 32, "items": {"type": "object", "required": ["op"], "properties": {"op": {"type": "string", "enum": ["filter", "select", "rename", "derive", "sort", "deduplicate", "join", "aggregate", "limit"]}}}}
			}
		},
		"ToolList": {
			"type": "object",
			"required": ["tools"],
			"properties": {"tools": {"type": "array", "items": {"type": "object",
				"required": ["name", "title", "description", "input_schema", "output_schema", "read_only"],
				"properties": {
					"name": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
					"input_schema": {"type": "object", "description": "JSON Schema of the arguments"},
					"output_schema": {"type": "object", "description": "JSON Schema of result"},
					"read_only": {"type": "boolean", "description": "false: the tool creates a dataset"}}}}}
		},
		"ToolResult": {
			"type": "object",
			"required": ["tool", "dataset_id", "result", "summary", "elapsed_ms"],
			"properties": {
				"tool": {"type": "string"}, "dataset_id": {"type": "string"},
				"result": {"type": "object", "description": "As the tool's output_schema says"},
				"summary": {"type": "string", "description": "One or two sentences for people"},
				"elapsed_ms": {"type": "integer"}
			}
		},
		"Share": {
			"type": "object",
			"required": ["share_id", "dataset_id", "expires_at", "status"],
			"properties": {
				"share_id": {"type": "string"},
				"dataset_id": {"type": "string"},
				"share_token": {"type": "string", "description": "Only in the answer that creates it; stored hashed"},
				"share_url": {"type": "string"},
				"created_at": {"type": "string", "format": "date-time"},
				"expires_at": {"type": "string", "format": "date-time"},
				"revoked_at": {"type": ["string", "null"], "format": "date-time"},
				"status": {"type": "string", "enum": ["active", "expired", "revoked"]}
			}
		},
		"Model": {
			"type": "object",
			"required": ["id", "model_id", "name", "version", "dataset_id", "target", "task", "status", "progress", "job_id"],
			"properties": {
				"id": {"type": "string"}, "model_id": {"type": "string"},
				"name": {"type": "string"}, "version": {"type": "integer", "description": "1, 2, ... per name"},
				"dataset_id": {"type": "string"}, "target": {"type": "string"},
				"task": {"type": "string", "enum": ["regression", "classification"]},
				"status": {"type": "string", "enum": ["training", "ready", "failed"]},
				"progress": {"type": "integer", "description": "Percent"},
				"error": {"type": ["string", "null"]},
				"job_id": {"type": "string"},
				"size_bytes": {"type": "integer"},
				"request": {"type": "object", "description": "The training request with every default filled in"},
				"features": {"type": "array", "description": "Once ready: each feature's column, kind and encoding (categories in code order)"},
				"classes": {"type": "array", "items": {"type": "string"}},
				"params": {"type": "object"},
				"validation": {"type": "object", "description": "split, fraction, rows, from?, metrics: rmse, mae, rmsle (regression) or accuracy, log_loss, auc (classification)"},
				"training_rows": {"type": "integer"},
				"importance": {"type": "array", "items": {"type": "object", "properties": {"feature": {"type": "string"}, "share": {"type": "number", "description": "Share of the total gain"}}}},
				"training_ms": {"type": "integer"},
				"xgboost": {"type": "string"},
				"created_at": {"type": "string", "format": "date-time"},
				"updated_at": {"type": "string", "format": "date-time"}
			}
		},
		"ModelList": {
			"type": "object",
			"required": ["models", "total", "limit", "offset"],
			"properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}, "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}
		},
		"PredictRequest": {
			"type": "object",
			"required": ["rows"],
			"properties": {"rows": {"type": "array", "items": {"type": "object"}, "description": "Objects of column values"}}
		},
		"Predictions": {
			"type": "object",
			"required": ["predictions", "model_id", "version"],
			"properties": {"predictions": {"type": "array", "items": {}, "description": "Numbers (regression) or {class, probabilities}"}, "model_id": {"type": "string"}, "version": {"type": "integer"}, "elapsed_us": {"type": "integer"}}
		},
		"BatchQueued": {
			"type": "object",
			"required": ["batch_id", "status", "total", "results_url", "estimated_completion"],
			"properties": {"batch_id": {"type": "string"}, "job_id": {"type": "string"}, "status": {"type": "string", "enum": ["pending"]}, "total": {"type": "integer"}, "results_url": {"type": "string"}, "estimated_completion": {"type": "string", "format": "date-time"}}
		},
		"BatchResults": {
			"type": "object",
			"required": ["batch_id", "status", "progress", "total"],
			"properties": {
				"batch_id": {"type": "string"},
				"status": {"type": "string", "enum": ["pending", "processing", "success", "failed", "cancelled"]},
				"progress": {"type": "integer", "description": "Percent"},
				"total": {"type": "integer"}, "processed": {"type": "integer"},
				"message": {"type": "string"}, "error": {"type": "string"},
				"results": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "eclo": {"type": ["number", "null"]}, "interpretation": {"type": ["string", "null"]}, "detail": {"type": ["string", "null"]}, "prediction": {}, "error": {"type": ["string", "null"]}}}}
			}
		},
		"Job": {
			"type": "object",
			"required": ["id", "job_id", "kind", "status", "progress"],
			"properties": {
				"id": {"type": "string"}, "job_id": {"type": "string"},
				"kind": {"type": "string", "enum": ["ingest", "train", "predict_batch"]},
				"subject_id": {"type": "string", "description": "The dataset or model it works on"},
				"status": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
				"progress": {"type": "integer", "description": "Percent"},
				"message": {"type": "string"}, "error": {"type": ["string", "null"]},
				"attempts": {"type": "integer"}, "cancel_requested": {"type": "boolean"},
				"created_at": {"type": ["string", "null"], "format": "date-time"},
				"started_at": {"type": ["string", "null"], "format": "date-time"},
				"finished_at": {"type": ["string", "null"], "format": "date-time"},
				"result": {"description": "What the job produced (kind-specific JSON), or null"}
			}
		},
		"EcloRequest": {
			"type": "object",
			"required": ["weather", "road_surface", "road_type", "accident_type", "district", "day_of_week", "accident_hour", "accident_year", "accident_month", "accident_day"],
			"properties": {
				"weather": {"type": "string", "example": "맑음", "description": "기상상태"},
				"road_surface": {"type": "string", "example": "건조", "description": "노면상태"},
				"road_type": {"type": "string", "example": "교차로 - 교차로안", "description": "도로형태"},
				"accident_type": {"type": "string", "example": "차대차", "description": "사고유형"},
				"time_period": {"type": "string", "example": "일반시간대", "description": "시간대: 심야, 출근시간대, 퇴근시간대, 일반시간대; from accident_hour when absent"},
				"district": {"type": "string", "example": "대구광역시 수성구 상동", "description": "시군구"},
				"day_of_week": {"type": "string", "example": "월요일", "description": "요일"},
				"accident_hour": {"type": "integer", "minimum": 0, "maximum": 23, "example": 14},
				"accident_year": {"type": "integer", "minimum": 1970, "maximum": 2100, "example": 2024},
				"accident_month": {"type": "integer", "minimum": 1, "maximum": 12, "example": 12},
				"accident_day": {"type": "integer", "minimum": 1, "maximum": 31, "example": 9}
			}
		},
		"EcloPrediction": {
			"type": "object",
			"required": ["eclo", "interpretation", "detail", "prediction_id", "model_version", "timestamp"],
			"properties": {
				"eclo": {"type": "number", "description": "On the ECLO scale (mean about 5)"},
				"interpretation": {"type": "string", "enum": ["경미", "일반", "심각", "매우 심각"]},
				"detail": {"type": "string"},
				"prediction_id": {"type": "string"},
				"model_version": {"type": "string"},
				"timestamp": {"type": "string", "format": "date-time"},
				"elapsed_us": {"type": "integer"}
			}
		},
		"Register": {
			"type": "object",
			"required": ["email", "password"],
			"properties": {
				"email": {"type": "string", "maxLength": 254, "example": "kim@example.com", "description": "Trimmed and lower-cased; unique"},
				"password": {"type": "string", "minLength": 10, "description": "At least 10 characters of at least two kinds (lower-case, upper-case, digits, others); not the email"},
				"name": {"type": "string", "maxLength": 100}
			}
		},
		"Login": {
			"type": "object",
			"required": ["email", "password"],
			"properties": {"email": {"type": "string"}, "password": {"type": "string"}}
		},
		"RefreshToken": {
			"type": "object",
			"required": ["refresh_token"],
			"properties": {"refresh_token": {"type": "string", "minLength": 43, "maxLength": 43}}
		},
		"TokenPair": {
			"type": "object",
			"required": ["access_token", "token_type", "expires_in", "refresh_token"],
			"properties": {
				"access_token": {"type": "string", "description": "HS256 JWT for Authorization: Bearer"},
				"token_type": {"type": "string", "enum": ["bearer"]},
				"expires_in": {"type": "integer", "description": "Seconds the access token is valid"},
				"refresh_token": {"type": "string", "description": "Single use: POST /api/auth/refresh trades it for a new pair"}
			}
		},
		"User": {
			"type": "object",
			"required": ["id", "email", "name", "created_at", "updated_at"],
			"properties": {
				"id": {"type": "string"},
				"email": {"type": "string"},
				"name": {"type": "string"},
				"created_at": {"type": "string", "format": "date-time"},
				"updated_at": {"type": "string", "format": "date-time"}
			}
		},
		"UserUpdate": {
			"type": "object",
			"additionalProperties": false,
			"properties": {"name": {"type": "string", "maxLength": 100}, "email": {"type": "string", "maxLength": 254}}
		},
		"PasswordChange": {
			"type": "object",
			"additionalProperties": false,
			"required": ["current_password", "new_password"],
			"properties": {"current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}}
		}
	},
	"securitySchemes": {
		"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Access token from POST /api/auth/login"}
	},
	"responses": {
		"Error": {
			"description": "Error",
			"headers": {"X-Request-Id": {"schema": {"type": "string"}}},
			"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
		}
	}
});

static const char *path_param_pattern(const char *name, size_t len)
{
	if ((len == 10 && memcmp(name, "session_id", 10) == 0) ||
	    (len == 7 && memcmp(name, "file_id", 7) == 0))
		return "^[A-Za-z0-9_-]{1,64}$";
	return NULL;
}

/* Adds the {name} parameters of pattern that op does not document itself. */
static void add_path_params(json_t *op, const char *pattern)
{
	json_t *params = json_object_get(op, "parameters");
	if (!params) {
		params = json_array();
		json_object_set_new(op, "parameters", params);
	}
	for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
		size_t len = strcspn(p + 1, "}");
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
		bool documented = false;
		size_t i;
		json_t *v;
		json_array_foreach(params, i, v)
			if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
				documented = true;
		if (documented)
			continue;
		json_t *schema = json_pack("{s:s}", "type", "string");
		const char *re = path_param_pattern(p + 1, len);
		if (re)
			json_object_set_new(schema, "pattern", json_string(re));
		json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", name, "in",
							"path", "required", 1, "schema", schema));
	}
	if (json_array_size(params) == 0)
		json_object_del(op, "parameters");
}

json_t *openapi_build(const struct route *routes, size_t n, const char *version,
		      struct error *e)
{
	json_error_t jerr;
	json_t *components = json_loads(components_json, 0, &jerr);
	if (!components) {
		error_set(e, "OpenAPI components: %s at column %d", jerr.text, jerr.column);
		return NULL;
	}
	/* The training request's schema is the one the handler checks with. */
	json_object_set_new(json_object_get(components, "schemas"), "TrainRequest",
			    train_request_schema());
	json_t *paths = json_object();
	json_t *doc = json_pack(
		"{s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:o, s:o, s:[{s:[]}]}", "openapi", "3.1.0",
		"info", "title", "sheaf", "version", version, "description",
		"One self-contained server for data analysis: sessions, files, datasets, queries, "
		"chat, prediction, semantic search and clustering. Every error body is "
		"{error, detail, timestamp, request_id}; lists take ?limit=&offset=. "
		"Operations under /api need Authorization: Bearer <access token> from "
		"POST /api/auth/login, except /api/auth/*.",
		"license", "name", "MIT", "identifier", "MIT", "paths", paths, "components",
		components, "security", "bearerAuth");

	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		json_t *op = json_loads(r->operation, 0, &jerr);
		if (!op || !json_is_object(op)) {
			error_set(e, "OpenAPI operation of %s %s: %s at column %d",
				  http_method_name(r->method), r->pattern, op ? "not an object" : jerr.text,
				  jerr.column);
			json_decref(op);
			json_decref(doc);
			return NULL;
		}
		add_path_params(op, r->pattern);
		if ((r->flags & ROUTE_PUBLIC) && !json_object_get(op, "security"))
			json_object_set_new(op, "security", json_array());
		json_t *responses = json_object_get(op, "responses");
		if (responses) {
			json_t *ref = json_pack("{s:s}", "$ref", "#/components/responses/Error");
			if (!json_object_get(responses, "4XX"))
				json_object_set(responses, "4XX", ref);
			if (!json_object_get(responses, "5XX"))
				json_object_set(responses, "5XX", ref);
			json_decref(ref);
		}
		json_t *item = json_object_get(paths, r->pattern);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, r->pattern, item);
		}
		char method[16];
		const char *m = http_method_name(r->method);
		size_t k = 0;
		for (; m[k] && k + 1 < sizeof method; k++)
			method[k] = (char)(m[k] | 0x20);   /* lower case */
		method[k] = '\0';
		json_object_set_new(item, method, op);
	}
	return doc;
}

void api_openapi(struct request *req)
{
	http_reply_static(req, 200, "application/json", req->app->openapi, req->app->openapi_len);
}

/* web/docs.html, linked in by web/assets.S. */
extern const char web_docs_html[];
extern const char web_docs_html_end[];

void api_docs(struct request *req)
{
	http_reply_static(req, 200, "text/html; charset=utf-8", web_docs_html,
			  (size_t)(web_docs_html_end - web_docs_html));
}
