wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Meibel-API-Key"] = "meibel-mock-key"
wrk.body = '{"batch_spec_json":{"name":"Quarterly invoices","agent":"agent_invoice_extractor","input":{"datasource_id":"ds_invoices","filters":{"media_types":["application/pdf"]}},"output":{"datasource_id":"ds_out"},"execution":{"concurrency":4,"retry_limit":2}}}'
