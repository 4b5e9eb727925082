-- login.lua - wrk: POST one login request (u8 2, KE1) again and again.
-- wrk -s login.lua URL -- FILE     (the body, from opaque-login ke1 FILE)
function init(args)
	local f = assert(io.open(args[1], "rb"))
	body = f:read("*a")
	f:close()
end

function request()
	return wrk.format("POST", nil,
		{ ["Content-Type"] = "application/octet-stream" }, body)
end
