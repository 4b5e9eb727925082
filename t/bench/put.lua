-- put.lua - wrk: PUT 400-byte envelopes, each under a fresh envelope id.
-- wrk -s put.lua URL -- /base/path      (ids are appended to the path)
local threads = 0
local body = string.rep("e", 400)

function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

function init(args)
	base = args[1] or "/x"
	-- two wrk processes at once (relay-pg.sh) must not send the same ids
	local u = io.open("/dev/urandom", "rb")
	local b = u:read(4)
	u:close()
	math.randomseed(os.time() + tid * 7919 + b:byte(1) * 16777216 + b:byte(2) * 65536
		+ b:byte(3) * 256 + b:byte(4))
	prefix = string.format("%08x%08x", tid, math.random(0, 0x7fffffff))
	n = 0
end

function request()
	n = n + 1
	return wrk.format("PUT", string.format("%s/%s%016x", base, prefix, n),
		{ ["Content-Type"] = "application/octet-stream" }, body)
end
