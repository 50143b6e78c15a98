-- OSRM's stock profile (@PROFILE@.lua of osrm-bindings), with two changes:
-- * a trip never starts or ends on a way above or below the street (an elevated road, 高架, a bridge, a tunnel):
--   a door under an elevated road is reached along the street below it, where stock OSRM snaps it onto the
--   elevated road, whose ramps may be kilometres away;
-- * no classes to exclude (tolls, motorways, ferries) at query time: planning never asks, and each class multiplies
--   the contraction's work (a grid city contracted in half the time without them).
package.path = "@PROFILES@/?.lua;" .. package.path
local stock = require("@PROFILE@")
local setup = stock.setup
local process_way = stock.process_way

stock.setup = function()
  local profile = setup()
  profile.excludable = Sequence {}
  return profile
end

local function off_street(way)
  local layer = tonumber(way:get_value_by_key("layer")) or 0
  local bridge = way:get_value_by_key("bridge")
  return layer ~= 0 or (bridge ~= nil and bridge ~= "no") or way:get_value_by_key("tunnel") == "yes"
end

stock.process_way = function(profile, way, result, relations)
  process_way(profile, way, result, relations)
  if off_street(way) then
    result.is_startpoint = false
  end
end

return stock
