-- Every request a different body: no answer can be remembered from an earlier one.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Meibel-API-Key"] = "meibel-mock-key"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"batch_spec_json":{"name":"Quarterly invoices ' .. counter .. '","agent":"agent_invoice_extractor",'
    .. '"input":{"datasource_id":"ds_invoices_' .. counter .. '","filters":{"media_types":["application/pdf"]}},'
    .. '"output":{"datasource_id":"ds_out"},"execution":{"concurrency":4,"retry_limit":2}}}'
  return wrk.format(nil, nil, nil, body)
end
