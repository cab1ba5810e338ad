package calconv

// windowsZones maps Windows time zone IDs (the names Exchange and Outlook
// put in StandardName and in TZIDs) to Olson zones, written after CLDR's
// windowsZones.xml: the first Olson zone of an entry is the one a
// Windows name resolves to, the others are zones that share its rules and
// get its name. The order is the order in which zones are tried when a
// TimeZone blob has to be matched by its rules, so the most used zone of
// each set of rules comes first (W. Europe before Romance, Central Europe
// and Central European, which have the same rules today).
var windowsZones = []struct {
	win   string
	olson []string
}{
	{"UTC", []string{"Etc/UTC", "UTC", "Etc/GMT"}},
	{"GMT Standard Time", []string{"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Atlantic/Canary", "Atlantic/Faroe", "Atlantic/Madeira", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"}},
	{"W. Europe Standard Time", []string{"Europe/Berlin", "Europe/Amsterdam", "Europe/Rome", "Europe/Stockholm", "Europe/Vienna", "Europe/Zurich", "Europe/Oslo", "Europe/Luxembourg", "Europe/Monaco", "Europe/Malta", "Europe/Andorra", "Europe/Gibraltar", "Europe/Vaduz", "Europe/San_Marino", "Europe/Vatican", "Europe/Busingen", "Arctic/Longyearbyen"}},
	{"Romance Standard Time", []string{"Europe/Paris", "Europe/Brussels", "Europe/Copenhagen", "Europe/Madrid", "Africa/Ceuta"}},
	{"Central Europe Standard Time", []string{"Europe/Budapest", "Europe/Prague", "Europe/Bratislava", "Europe/Ljubljana", "Europe/Belgrade", "Europe/Podgorica", "Europe/Tirane"}},
	{"Central European Standard Time", []string{"Europe/Warsaw", "Europe/Sarajevo", "Europe/Skopje", "Europe/Zagreb"}},
	{"GTB Standard Time", []string{"Europe/Bucharest", "Europe/Athens", "Asia/Nicosia", "Europe/Nicosia"}},
	{"FLE Standard Time", []string{"Europe/Kiev", "Europe/Kyiv", "Europe/Helsinki", "Europe/Riga", "Europe/Sofia", "Europe/Tallinn", "Europe/Vilnius", "Europe/Mariehamn"}},
	{"E. Europe Standard Time", []string{"Europe/Chisinau"}},
	{"Russian Standard Time", []string{"Europe/Moscow", "Europe/Simferopol", "Europe/Kirov"}},
	{"Belarus Standard Time", []string{"Europe/Minsk"}},
	{"Turkey Standard Time", []string{"Europe/Istanbul", "Asia/Istanbul"}},
	{"Israel Standard Time", []string{"Asia/Jerusalem", "Asia/Tel_Aviv"}},
	{"Middle East Standard Time", []string{"Asia/Beirut"}},
	{"Jordan Standard Time", []string{"Asia/Amman"}},
	{"Egypt Standard Time", []string{"Africa/Cairo"}},
	{"South Africa Standard Time", []string{"Africa/Johannesburg", "Africa/Maputo", "Africa/Harare", "Africa/Lusaka"}},
	{"W. Central Africa Standard Time", []string{"Africa/Lagos", "Africa/Algiers", "Africa/Tunis", "Africa/Kinshasa", "Africa/Douala"}},
	{"E. Africa Standard Time", []string{"Africa/Nairobi", "Africa/Addis_Ababa", "Africa/Dar_es_Salaam", "Africa/Kampala"}},
	{"Kaliningrad Standard Time", []string{"Europe/Kaliningrad"}},
	{"Morocco Standard Time", []string{"Africa/Casablanca"}},
	{"Greenwich Standard Time", []string{"Atlantic/Reykjavik", "Africa/Abidjan", "Africa/Accra", "Africa/Dakar"}},
	{"Arabic Standard Time", []string{"Asia/Baghdad"}},
	{"Arab Standard Time", []string{"Asia/Riyadh", "Asia/Kuwait", "Asia/Qatar", "Asia/Bahrain", "Asia/Aden"}},
	{"Iran Standard Time", []string{"Asia/Tehran"}},
	{"Arabian Standard Time", []string{"Asia/Dubai", "Asia/Muscat"}},
	{"Azerbaijan Standard Time", []string{"Asia/Baku"}},
	{"Georgian Standard Time", []string{"Asia/Tbilisi"}},
	{"Caucasus Standard Time", []string{"Asia/Yerevan"}},
	{"Afghanistan Standard Time", []string{"Asia/Kabul"}},
	{"West Asia Standard Time", []string{"Asia/Tashkent", "Asia/Samarkand", "Asia/Dushanbe", "Asia/Ashgabat"}},
	{"Pakistan Standard Time", []string{"Asia/Karachi"}},
	{"Ekaterinburg Standard Time", []string{"Asia/Yekaterinburg"}},
	{"India Standard Time", []string{"Asia/Kolkata", "Asia/Calcutta"}},
	{"Sri Lanka Standard Time", []string{"Asia/Colombo"}},
	{"Nepal Standard Time", []string{"Asia/Kathmandu", "Asia/Katmandu"}},
	{"Central Asia Standard Time", []string{"Asia/Almaty", "Asia/Bishkek"}},
	{"Bangladesh Standard Time", []string{"Asia/Dhaka", "Asia/Thimphu"}},
	{"Myanmar Standard Time", []string{"Asia/Yangon", "Asia/Rangoon"}},
	{"SE Asia Standard Time", []string{"Asia/Bangkok", "Asia/Jakarta", "Asia/Ho_Chi_Minh", "Asia/Saigon", "Asia/Phnom_Penh", "Asia/Vientiane"}},
	{"N. Central Asia Standard Time", []string{"Asia/Novosibirsk"}},
	{"North Asia Standard Time", []string{"Asia/Krasnoyarsk"}},
	{"China Standard Time", []string{"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Chongqing"}},
	{"Singapore Standard Time", []string{"Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila", "Asia/Makassar", "Asia/Brunei"}},
	{"Taipei Standard Time", []string{"Asia/Taipei"}},
	{"W. Australia Standard Time", []string{"Australia/Perth"}},
	{"North Asia East Standard Time", []string{"Asia/Irkutsk"}},
	{"Ulaanbaatar Standard Time", []string{"Asia/Ulaanbaatar"}},
	{"Tokyo Standard Time", []string{"Asia/Tokyo"}},
	{"Korea Standard Time", []string{"Asia/Seoul"}},
	{"Yakutsk Standard Time", []string{"Asia/Yakutsk"}},
	{"Cen. Australia Standard Time", []string{"Australia/Adelaide", "Australia/Broken_Hill"}},
	{"AUS Central Standard Time", []string{"Australia/Darwin"}},
	{"E. Australia Standard Time", []string{"Australia/Brisbane", "Australia/Lindeman"}},
	{"AUS Eastern Standard Time", []string{"Australia/Sydney", "Australia/Melbourne", "Australia/Canberra", "Australia/ACT", "Australia/NSW", "Australia/Victoria"}},
	{"Tasmania Standard Time", []string{"Australia/Hobart"}},
	{"West Pacific Standard Time", []string{"Pacific/Port_Moresby", "Pacific/Guam"}},
	{"Vladivostok Standard Time", []string{"Asia/Vladivostok"}},
	{"Magadan Standard Time", []string{"Asia/Magadan"}},
	{"Central Pacific Standard Time", []string{"Pacific/Guadalcanal", "Pacific/Noumea"}},
	{"New Zealand Standard Time", []string{"Pacific/Auckland"}},
	{"Fiji Standard Time", []string{"Pacific/Fiji"}},
	{"Tonga Standard Time", []string{"Pacific/Tongatapu"}},
	{"Samoa Standard Time", []string{"Pacific/Apia"}},
	{"Line Islands Standard Time", []string{"Pacific/Kiritimati"}},
	{"Azores Standard Time", []string{"Atlantic/Azores"}},
	{"Cape Verde Standard Time", []string{"Atlantic/Cape_Verde"}},
	{"UTC-02", []string{"Etc/GMT+2", "America/Noronha"}},
	{"Greenland Standard Time", []string{"America/Nuuk", "America/Godthab"}},
	{"Montevideo Standard Time", []string{"America/Montevideo"}},
	{"E. South America Standard Time", []string{"America/Sao_Paulo"}},
	{"Argentina Standard Time", []string{"America/Argentina/Buenos_Aires", "America/Buenos_Aires"}},
	{"SA Eastern Standard Time", []string{"America/Cayenne", "America/Fortaleza", "America/Belem"}},
	{"Newfoundland Standard Time", []string{"America/St_Johns"}},
	{"Atlantic Standard Time", []string{"America/Halifax", "Atlantic/Bermuda", "America/Glace_Bay", "America/Moncton"}},
	{"SA Western Standard Time", []string{"America/La_Paz", "America/Puerto_Rico", "America/Santo_Domingo", "America/Manaus"}},
	{"Pacific SA Standard Time", []string{"America/Santiago"}},
	{"Venezuela Standard Time", []string{"America/Caracas"}},
	{"Eastern Standard Time", []string{"America/New_York", "America/Toronto", "America/Detroit", "America/Nassau", "America/Montreal", "US/Eastern"}},
	{"US Eastern Standard Time", []string{"America/Indiana/Indianapolis", "America/Indianapolis"}},
	{"Eastern Standard Time (Mexico)", []string{"America/Cancun"}},
	{"SA Pacific Standard Time", []string{"America/Bogota", "America/Lima", "America/Panama", "America/Jamaica", "America/Guayaquil"}},
	{"Central Standard Time", []string{"America/Chicago", "America/Winnipeg", "America/Matamoros", "US/Central"}},
	{"Central Standard Time (Mexico)", []string{"America/Mexico_City", "America/Monterrey"}},
	{"Canada Central Standard Time", []string{"America/Regina"}},
	{"Central America Standard Time", []string{"America/Guatemala", "America/Costa_Rica", "America/El_Salvador", "America/Managua", "America/Tegucigalpa"}},
	{"Mountain Standard Time", []string{"America/Denver", "America/Edmonton", "America/Boise", "US/Mountain"}},
	{"Mountain Standard Time (Mexico)", []string{"America/Mazatlan", "America/Chihuahua"}},
	{"US Mountain Standard Time", []string{"America/Phoenix"}},
	{"Pacific Standard Time", []string{"America/Los_Angeles", "America/Vancouver", "US/Pacific"}},
	{"Pacific Standard Time (Mexico)", []string{"America/Tijuana"}},
	{"Alaskan Standard Time", []string{"America/Anchorage", "America/Juneau"}},
	{"Hawaiian Standard Time", []string{"Pacific/Honolulu"}},
	{"UTC-11", []string{"Etc/GMT+11", "Pacific/Pago_Pago"}},
	{"Dateline Standard Time", []string{"Etc/GMT+12"}},
}

var (
	olsonToWindows = map[string]string{}
	windowsToOlson = map[string]string{}
	// candidateZones are the zones tried, in order, when a TimeZone blob
	// or a VTIMEZONE has to be matched by its rules: the first Olson zone
	// of each entry of windowsZones.
	candidateZones []string
)

func init() {
	for _, e := range windowsZones {
		windowsToOlson[e.win] = e.olson[0]
		candidateZones = append(candidateZones, e.olson[0])
		for _, o := range e.olson {
			olsonToWindows[o] = e.win
		}
	}
}
