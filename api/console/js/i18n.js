// Labels in the branch's language (Chinese by default, English on the switch), times in the branch's time zone.

const zh = {
  title: "外访控制台", login: "登录", username: "用户名", password: "密码", logout: "退出", language: "English",
  day: "当日地图", planning: "排班规划", addresses: "地址核查", visits: "外访复核", findings: "外访动态",
  date: "日期", team: "小组", teams: "小组", agents: "外访员", stops: "站点", leaves: "出发", returns: "返回",
  km: "公里", state: "状态", all: "全部", office: "公司", purpose: "目的", window: "时间窗", flags: "提示",
  case: "案件", debtor: "债务人", address: "地址", visit: "外访", outcome: "结果", refresh: "刷新",
  no_sheets: "当日没有已发布的外访表", open_visit: "打开外访", not_allowed: "您的角色无权查看此页面",
  start_run: "开始规划", time_limit: "求解时限（秒）", runs: "规划记录", progress: "进度", publish: "发布",
  resolve: "重新求解", left_out: "未排入的请求", reason: "原因", pin: "固定", remove: "移除", position: "顺序",
  start_time: "开始时间", edits: "修改", pending: "待求解", withdraw: "撤回", compare: "与上次规划比较",
  planned: "已排", unplanned: "未排", distance: "里程", previous: "上次", this_run: "本次", pdf: "打印外访表",
  published: "已发布", draft: "草稿", no_runs: "该日期还没有规划", run_status: "规划状态", stage: "阶段",
  reports: "待处理地址报告", confirm: "确认无效", reject: "驳回", note: "说明", save_point: "保存位置",
  point_moved: "拖动标记可修正位置", raised_by: "来源", grade: "地址等级", candidates: "候选位置", photos: "照片",
  no_reports: "没有待处理的地址报告", corrected_text: "更正后的地址", confirmed: "已确认，相关站点已取消",
  rejected: "已驳回", point_saved: "位置已保存", filters: "筛选", status: "状态", started: "开始", completed: "完成",
  no_visits: "没有外访", check_ins: "签到", evidence: "证据", recording: "录音", cash: "现金收款审批",
  approve_cash: "批准现金", max_amount: "最高金额", amendments: "更正", override: "无双人签到开始",
  start_override: "主管开始外访", override_reason: "原因（至少10个字）", approved: "已批准",
  distance_to_address: "距地址", accuracy: "精度", submitted: "提交", confirmed_by: "确认", exif: "照片位置",
  new_findings: "新动态", no_findings: "暂无动态", open_case: "打开案件", open_report: "处理报告",
  amount_owed: "欠款", contacts: "联系方式", visits_of_case: "外访记录", reference: "案件编号", back: "返回",
  planning_done: "规划完成", published_ok: "已发布", failed: "失败", care: "注意",
  "state.planned": "计划", "state.checking_in": "签到中", "state.in_progress": "进行中", "state.done": "完成",
  "state.failed": "未遇", "state.cancelled": "已取消",
  "visit.checking_in": "签到中", "visit.in_progress": "进行中", "visit.reported": "待确认",
  "visit.completed": "已完成", "visit.amendment_reported": "更正待确认",
  "flag.complaint_history": "曾投诉", "flag.elderly_resident": "老年住户", "flag.cash": "现金",
  "flag.override": "主管开始", "flag.awaiting": "待确认", "flag.evidence": "证据存疑",
  "finding.repayment_promised": "还款承诺", "finding.contact_found": "新联系方式",
  "finding.address_reported": "地址报告", "finding.address_confirmed_invalid": "地址确认无效",
  "finding.address_report_rejected": "地址报告驳回", "finding.fake_address_suspected": "疑似虚假地址",
  "finding.visit_failed": "外访未遇", "finding.evidence_flagged": "证据存疑",
  "finding.visit_overstayed": "现场停留超时", "finding.presence_doubtful": "到场存疑",
  "finding.team_out_of_contact": "小组失联", "finding.team_off_route": "小组偏离路线",
  presence: "到场", doubtful: "存疑", plausible: "可信", presence_review: "到场评估", score: "得分", signal: "信号",
  value: "测量值", weight: "权重", flagged: "异常", detail: "说明", no_presence: "尚无到场评估",
  "presence.start": "开始时", "presence.completion": "完成时", no_position: "无位置", last_seen: "最后位置",
  minutes_ago: "分钟前", min: "分钟", mock: "模拟位置", since: "自", ongoing: "仍在持续", open_day: "打开当日地图",
  "signal.check_ins": "签到位置", "signal.dwell": "现场停留", "signal.co_presence": "两人同行",
  "signal.together_too_closely": "两部手机如一人携带", "signal.continuity": "轨迹连续", "signal.mock_location": "模拟定位",
  "signal.impossible_accuracy": "精度异常", "signal.repeated_coordinates": "坐标重复",
  "signal.identical_devices": "两机坐标相同", "signal.clock_skew": "设备时钟偏差", "signal.replayed_track": "轨迹重放",
  "signal.photo_agreement": "照片位置与时间", "signal.recording_agreement": "录音时长",
  "run.queued": "排队中", "run.running": "规划中", "run.succeeded": "成功", "run.failed": "失败",
  "run.cancelled": "已取消",
  in_day: "当日重排", in_day_replan: "重新规划当日剩余部分", confirm_publish: "确认发布",
  publish_in_day: "当日已在进行：发布会更改以下小组的外访表，外访员手机会收到变更。再次点击确认发布。",
  plan_outdated: "此方案不能直接发布：", day_holds: "当日已有 {done} 次外访完成、{in_progress} 次进行中、{cancelled} 个站点已取消。",
  outdated_superseded: "此方案制定后，当日已有更新的外访表发布。", outdated_before: "此方案制定于当日开始之前。",
  no_change: "无变化", roster: "小组名单", team_name: "小组名称", shift: "班次", experienced: "有经验",
  new_team: "新建小组", team_created: "小组已建立", today: "当日调度", timeline: "各组时间线", late: "已晚", stand_down: "停工",
  stand_down_reason: "停工原因", stood_down: "已停工", late_teams: "进度落后的小组", apply_fix: "应用调整",
  no_late: "没有落后的小组", open_requests: "今日待排的请求", who_can_take: "谁能接", insert: "插入",
  inserted: "已插入", arrives: "到达", no_team_can_take: "无小组可接", no_open_requests: "今日没有待排的请求",
  will_miss: "{after} 之后将错过 {count} 个站点：", "refusal.skill": "需要有经验的小组（曾投诉案件）",
  "refusal.pinned_elsewhere": "已固定给其他小组", "refusal.visit_limit": "已达外访上限",
  "refusal.running_late": "本组进度已落后", "refusal.no_time": "当日没有能守住时间窗和合法时段的位置",
  "refusal.already_on_a_sheet": "已在某组外访表上", "refusal.not_plannable": "该请求当日不能排入",
  "refusal.not_eligible": "该案件当前不得外访", "refusal.no_teams": "当日没有可工作的小组",
  "refusal.outside_legal_hours": "当日剩余时间不在合法外访时段内", "refusal.not_a_visiting_day": "当日不可外访", "failure.no_teams": "当日没有可工作的小组", "failure.nothing_to_plan": "没有可以排入的外访请求",
  "failure.no_plan": "求解器在时限内没有给出方案", "failure.abandoned": "规划进程中断", "failure.error": "规划出错",
  "change.added": "新增", "change.removed": "移除", "change.moved_in": "调入", "change.moved_out": "调出",
  "change.cancelled": "取消", "change.retimed": "改时",
  "finding.sheet_changed": "外访表已变更", "finding.team_running_late": "小组进度落后",
  "finding.address_report_resolved": "地址报告已自动解决", "finding.geocoder_refused": "地理编码服务拒绝",
  geocoding: "地理编码", resolved_by_system: "系统已自动解决的报告", none_resolved: "暂无自动解决的报告",
  addresses_unanswered: "个地址未获应答", "resolver.system": "系统", "resolver.supervisor": "主管",
  "geocode.placed": "已定位", "geocode.coarse_match": "定位粗略", "geocode.no_match": "未找到",
  "geocode.outage": "服务中断", "geocode.rate_limited": "请求过频", "geocode.key_refused": "密钥被拒",
  "geocode.quota_exhausted": "配额用尽", "geocode.provider_error": "服务出错",
  "problem.no_point": "无法定位", "problem.vague_text": "地址模糊", "problem.incomplete_text": "地址不完整",
  "problem.untrusted_match": "定位精度不足", "problem.far_from_district": "坐标不在所属区县",
  "problem.shared_point": "与他人地址坐标相同", "problem.no_road": "道路无法到达",
  "reason.demolished": "已拆迁", "reason.vague": "地址模糊", "reason.incomplete": "地址不全",
  "reason.nonexistent": "地址不存在", "reason.other": "其他", "origin.agent": "外访员", "origin.precheck": "预检",
  "origin.outcome": "外访结果", "purpose.find_new_information": "寻找新信息", "purpose.confirm_address": "核实地址",
  "purpose.negotiate": "协商还款", "purpose.deliver_letter": "送达函件",
  actual: "实际", planned_at: "计划", move_stop: "移动站点", close: "关闭", move_here: "移到此组（最佳位置）", move_to_place: "移到第几站",
  drag_to_move: "拖到其他小组或位置，或点击选择", stop_moved: "站点已移动，相关外访表已发布",
  move_hint: "未开始的站点可拖到其他小组的时间线上；也可点击站点（或按回车）选择小组和顺序。各组会立即显示能否接收及原因。",
  priority: "优先级", any_time: "全天", skill: "所需资质", no_skill_needed: "无", "skill.experienced": "有经验的小组",
  "refusal.position": "该位置不可用：须在已外访站点之后，最多紧随最后一个计划站点",
  "refusal.team_not_working": "该小组当日不工作",
  "not_movable.not_on_a_sheet": "该请求不在任何小组的外访表上", "not_movable.visited": "该站点的外访已开始或已结束",
  "not_movable.cancelled": "该站点已取消", "not_movable.closed_now": "当日剩余时间法律或准入规则不允许外访",
  "not_movable.from_team_stood_down": "所在小组已停工：请用当日重排分配其站点",
  "not_movable.from_team_running_late": "所在小组严重落后，休息已排不下：请先应用其调整",
  pin_here: "固定给此组", pinned_ok: "已固定，重新求解后生效", change_pair: "换人", pair_changed: "小组成员已更换",
  team_at_the_door: "该组有外访尚未由两人确认，确认后才能换人",
  blocked: "门前受阻", "eligibility.attorney": "已委托律师", "eligibility.vulnerable": "特别脆弱",
  "eligibility.bereavement": "丧期", "eligibility.inconvenient": "债务人称不便", "eligibility.open_complaint": "投诉未结",
  "eligibility.visit_cap": "外访次数已达上限",
  "role.agent": "外访员", "role.supervisor": "主管", "role.phone_collector": "电催员", "role.admin": "管理员",
  results: "成果", day_figures: "当日", month_to_date: "本月至今", month_short: "本月", payment_days: "回款计入天数",
  trend: "本月每日走势", figure: "指标", teams_month: "各小组（本月至今）", agents_month: "各外访员（本月至今）",
  agent: "外访员", export_csv: "导出 CSV", export_xlsx: "导出 Excel", sparkline: "每日走势",
  no_rows: "本月至今没有记录", promises_due: "本周到期的还款承诺", due_on: "到期日", amount: "金额", paid: "已还",
  follow_up: "安排跟进外访", follow_up_made: "已建立跟进外访请求", followed_up: "已安排跟进",
  no_promises: "本周没有到期的承诺", period_span: "{since} 至 {until}", visits_count: "{count} 次外访",
  visits_count_one: "{count} 次外访", work_date: "外访日期", contact_result: "接触结果", back_to_results: "返回成果",
  chart_of: "{figure}，每日：", drill_open: "查看这些外访",
  "figure.visits_done": "外访完成", "figure.visits_failed": "无人应答", "figure.right_party_contact_rate": "本人接触率",
  "figure.family_contact_rate": "家属接触率", "figure.promises_made": "还款承诺", "figure.promised_amount": "承诺金额",
  "figure.kept_rate": "承诺履约率", "figure.paid_after_visits": "外访后回款", "figure.cash_collected": "现金收款",
  "figure.on_time_share": "准时率", "figure.evidence_complete_share": "证据完整率",
  "figure.doubtful_presence_share": "到场存疑率", "figure.addresses_invalid": "确认无效地址",
  "figure.planned": "计划站点",
  "drill.visits_done": "完成的外访", "drill.visits_failed": "无人应答的外访", "drill.right_party_contacts": "见到本人的外访",
  "drill.family_contacts": "见到家属的外访", "drill.promises_made": "作出还款承诺的外访",
  "drill.promises_kept": "承诺已履约的外访", "drill.promises_partly_kept": "承诺部分履约的外访",
  "drill.promises_broken": "承诺违约的外访", "drill.paid_after_visits": "之后有回款的外访",
  "drill.cash_collected": "现场收取现金的外访", "drill.on_time": "准时开始的外访", "drill.evidence_flagged": "证据存疑的外访",
  "drill.doubtful_presence": "到场存疑的外访",
  "promise.pending": "未到期", "promise.kept": "已履约", "promise.partly_kept": "部分履约", "promise.broken": "违约",
  "contact.met_debtor": "见到本人", "contact.met_family": "见到家属", "contact.met_other": "见到他人",
  "contact.nobody": "无人应答",
  "error.follow-up-exists": "该承诺已安排过跟进外访", "error.promise-not-broken": "只有违约或部分履约的承诺才能跟进",
  "error.promise-not-found": "找不到该承诺", "error.address-invalid": "该地址已被报告或确认无效",
  "error.visit-request-duplicate": "该地址在这些日期已有外访请求",
  "error.window-outside-visiting-hours": "时间窗不在该地址的合法外访时段内",
};

const en = {
  title: "Field visit console", login: "Log in", username: "Username", password: "Password", logout: "Log out",
  language: "中文", day: "Day map", planning: "Planning", addresses: "Address queue", visits: "Visit review",
  findings: "Findings", date: "Date", team: "Team", teams: "Teams", agents: "Agents", stops: "stops",
  leaves: "leaves", returns: "returns", km: "km", state: "State", all: "All", office: "Office", purpose: "Purpose",
  window: "Window", flags: "Flags", case: "Case", debtor: "Debtor", address: "Address", visit: "Visit",
  outcome: "Outcome", refresh: "Refresh", no_sheets: "No published sheets on this day", open_visit: "Open visit",
  not_allowed: "Your role may not see this page", start_run: "Start planning", time_limit: "Time limit (s)",
  runs: "Runs", progress: "Progress", publish: "Publish", resolve: "Re-solve", left_out: "Left out", reason: "Reason",
  pin: "Pin", remove: "Remove", position: "Position", start_time: "Start time", edits: "Edits", pending: "pending",
  withdraw: "Withdraw", compare: "Compared with the previous run", planned: "Planned", unplanned: "Left out",
  distance: "Distance", previous: "Previous", this_run: "This run", pdf: "Printable sheet", published: "Published",
  draft: "Draft", no_runs: "No runs for this date yet", run_status: "Run", stage: "Stage",
  reports: "Pending address reports", confirm: "Confirm invalid", reject: "Reject", note: "Note",
  save_point: "Save point", point_moved: "Drag the marker to correct the point", raised_by: "Raised by",
  grade: "Grade", candidates: "Candidates", photos: "Photos", no_reports: "No pending address reports",
  corrected_text: "Corrected address", confirmed: "Confirmed: its stops are cancelled", rejected: "Rejected",
  point_saved: "Point saved", filters: "Filters", status: "Status", started: "Started", completed: "Completed",
  no_visits: "No visits", check_ins: "Check-ins", evidence: "Evidence", recording: "Recording",
  cash: "Cash approvals", approve_cash: "Approve cash", max_amount: "Up to", amendments: "Amendments",
  override: "Started without both check-ins", start_override: "Start the visit as supervisor",
  override_reason: "Reason (10 characters or more)", approved: "Approved", distance_to_address: "From address",
  accuracy: "Accuracy", submitted: "Submitted", confirmed_by: "Confirmed", exif: "Photo position",
  new_findings: "New findings", no_findings: "No findings yet", open_case: "Open case", open_report: "Open report",
  amount_owed: "Owed", contacts: "Contacts", visits_of_case: "Visits", reference: "Reference", back: "Back",
  planning_done: "Planning finished", published_ok: "Published", failed: "Failed", care: "Care",
  "state.planned": "planned", "state.checking_in": "checking in", "state.in_progress": "in progress",
  "state.done": "done", "state.failed": "failed", "state.cancelled": "cancelled",
  "visit.checking_in": "checking in", "visit.in_progress": "in progress", "visit.reported": "to confirm",
  "visit.completed": "completed", "visit.amendment_reported": "amendment to confirm",
  "flag.complaint_history": "complaint history", "flag.elderly_resident": "elderly resident", "flag.cash": "cash",
  "flag.override": "supervisor start", "flag.awaiting": "awaiting confirmation", "flag.evidence": "evidence flagged",
  "finding.repayment_promised": "Repayment promised", "finding.contact_found": "New contact",
  "finding.address_reported": "Address reported", "finding.address_confirmed_invalid": "Address confirmed invalid",
  "finding.address_report_rejected": "Address report rejected",
  "finding.fake_address_suspected": "Fake address suspected", "finding.visit_failed": "Nobody met",
  "finding.evidence_flagged": "Evidence flagged", "finding.visit_overstayed": "Stayed too long",
  "finding.presence_doubtful": "Presence doubtful", "finding.team_out_of_contact": "Team out of contact",
  "finding.team_off_route": "Team off route",
  presence: "presence", doubtful: "doubtful", plausible: "plausible", presence_review: "Presence", score: "score",
  signal: "Signal", value: "Value", weight: "Weight", flagged: "flagged", detail: "Detail",
  no_presence: "No presence assessment yet", "presence.start": "At the start", "presence.completion": "At completion",
  no_position: "no position", last_seen: "last seen", minutes_ago: "min ago", min: "min", mock: "mock location", since: "since",
  ongoing: "ongoing", open_day: "Open the day map",
  "signal.check_ins": "check-ins", "signal.dwell": "dwell", "signal.co_presence": "co-presence",
  "signal.together_too_closely": "one person with both phones", "signal.continuity": "continuity",
  "signal.mock_location": "mock location", "signal.impossible_accuracy": "impossible accuracy",
  "signal.repeated_coordinates": "repeated coordinates", "signal.identical_devices": "identical devices",
  "signal.clock_skew": "clock skew", "signal.replayed_track": "replayed track",
  "signal.photo_agreement": "photo agreement", "signal.recording_agreement": "recording agreement",
  "run.queued": "queued", "run.running": "running",
  "run.succeeded": "succeeded", "run.failed": "failed", "run.cancelled": "cancelled",
  in_day: "in-day re-plan", in_day_replan: "Re-plan the rest of the day", confirm_publish: "Confirm publishing",
  publish_in_day: "The day is under way: publishing changes these teams' sheets and their phones are told. Click again to publish.",
  plan_outdated: "This plan cannot be published as it is: ", day_holds: "the day has {done} visits done, {in_progress} in progress and {cancelled} stops cancelled.",
  outdated_superseded: "Newer sheets of the day were published after it was made; ", outdated_before: "it was made before the day began; ",
  no_change: "no change", roster: "Teams of the day", team_name: "Team name", shift: "Shift",
  experienced: "experienced", new_team: "New team", team_created: "team created", today: "Today", timeline: "Teams' timelines", late: "late", stand_down: "Stand down",
  stand_down_reason: "Why stood down", stood_down: "stood down", late_teams: "Teams running late",
  apply_fix: "Apply the fix", no_late: "No team is running late", open_requests: "Requests still open today",
  who_can_take: "Who can take it", insert: "Insert", inserted: "inserted", arrives: "arrives",
  no_team_can_take: "no team can take it", no_open_requests: "No request is open today",
  will_miss: "will miss {count} stops after {after}:", "refusal.skill": "needs an experienced team (a complaint case)",
  "refusal.pinned_elsewhere": "pinned to another team", "refusal.visit_limit": "has all its visits already",
  "refusal.running_late": "runs late itself", "refusal.no_time": "no place keeps the window and the legal hours",
  "refusal.already_on_a_sheet": "on a team's sheet already", "refusal.not_plannable": "cannot be planned today",
  "refusal.not_eligible": "the case may not be visited now", "refusal.no_teams": "no team works today",
  "refusal.outside_legal_hours": "no legal visiting time is left today", "refusal.not_a_visiting_day": "not a visiting day", "failure.no_teams": "no team works on that date", "failure.nothing_to_plan": "no visit request can be planned",
  "failure.no_plan": "the solver gave no plan within the time limit", "failure.abandoned": "the planning process stopped",
  "failure.error": "planning failed with an error",
  "change.added": "added", "change.removed": "removed", "change.moved_in": "moved in", "change.moved_out": "moved out",
  "change.cancelled": "cancelled", "change.retimed": "re-timed",
  "finding.sheet_changed": "Sheet changed", "finding.team_running_late": "Team running late",
  "finding.address_report_resolved": "Address report resolved", "finding.geocoder_refused": "Geocoder refused",
  geocoding: "geocoding", resolved_by_system: "Resolved by the system", none_resolved: "No report resolved itself",
  addresses_unanswered: "addresses unanswered", "resolver.system": "system", "resolver.supervisor": "supervisor",
  "geocode.placed": "placed", "geocode.coarse_match": "coarse match", "geocode.no_match": "no match",
  "geocode.outage": "outage", "geocode.rate_limited": "rate limited", "geocode.key_refused": "key refused",
  "geocode.quota_exhausted": "quota exhausted", "geocode.provider_error": "provider error",
  "problem.no_point": "no point", "problem.vague_text": "vague text", "problem.incomplete_text": "incomplete text",
  "problem.untrusted_match": "coarse match", "problem.far_from_district": "far from its district",
  "problem.shared_point": "another debtor's point", "problem.no_road": "no road reaches it",
  "reason.demolished": "demolished", "reason.vague": "vague", "reason.incomplete": "incomplete",
  "reason.nonexistent": "does not exist", "reason.other": "other", "origin.agent": "agent",
  "origin.precheck": "pre-check", "origin.outcome": "visit outcome", "purpose.find_new_information": "find new information",
  "purpose.confirm_address": "confirm the address", "purpose.negotiate": "negotiate", "purpose.deliver_letter": "deliver a letter",
  actual: "actual", planned_at: "planned", move_stop: "Move the stop", close: "Close", move_here: "Move to this team (best place)", move_to_place: "Move to place",
  drag_to_move: "drag to another team or place, or click to choose", stop_moved: "stop moved; the sheets it changes are published",
  move_hint: "Drag a stop not yet started onto another team's timeline, or click it (or press Enter) to choose a team and a place. Each team says at once whether it can take it, and why not.",
  priority: "Priority", any_time: "any time", skill: "Skill needed", no_skill_needed: "none",
  "skill.experienced": "an experienced team",
  "refusal.position": "that place is not free: after the stops visited, at most right after the last planned one",
  "refusal.team_not_working": "the team does not work that day",
  "not_movable.not_on_a_sheet": "no team's sheet holds it", "not_movable.visited": "its visit has begun or ended",
  "not_movable.cancelled": "the stop is cancelled", "not_movable.closed_now": "the law or the eligibility gate close it for the rest of the day",
  "not_movable.from_team_stood_down": "its team is stood down: the in-day re-plan gives its stops to the others",
  "not_movable.from_team_running_late": "its team runs so late that its breaks no longer fit: apply its fix first",
  pin_here: "Pin to this team", pinned_ok: "pinned: it takes effect when re-solved", change_pair: "Change pair",
  pair_changed: "the team's pair changed",
  team_at_the_door: "the team has a visit not yet confirmed by both: change the pair after it",
  blocked: "Blocked at the door", "eligibility.attorney": "represented by an attorney",
  "eligibility.vulnerable": "particularly vulnerable", "eligibility.bereavement": "bereavement",
  "eligibility.inconvenient": "inconvenient for the debtor", "eligibility.open_complaint": "open complaint",
  "eligibility.visit_cap": "visit cap reached",
  "role.agent": "agent", "role.supervisor": "supervisor", "role.phone_collector": "phone collector",
  "role.admin": "admin",
  results: "Results", day_figures: "Day", month_to_date: "Month to date", month_short: "Month",
  payment_days: "Payment days", trend: "Daily trend this month", figure: "Figure", teams_month: "Teams, month to date",
  agents_month: "Agents, month to date", agent: "Agent", export_csv: "Export CSV",
  export_xlsx: "Export Excel", sparkline: "Day by day", no_rows: "Nothing recorded this month",
  promises_due: "Promises due this week", due_on: "Due", amount: "Amount", paid: "Paid", follow_up: "Follow-up visit",
  follow_up_made: "follow-up visit requested", followed_up: "followed up",
  no_promises: "No promise falls due this week",
  period_span: "{since} to {until}", visits_count: "{count} visits", visits_count_one: "{count} visit",
  work_date: "Work date", contact_result: "Contact", back_to_results: "Back to results",
  chart_of: "{figure}, day by day: ", drill_open: "See these visits",
  "figure.visits_done": "Visits done", "figure.visits_failed": "Nobody met",
  "figure.right_party_contact_rate": "Right-party contact", "figure.family_contact_rate": "Family contact",
  "figure.promises_made": "Promises made", "figure.promised_amount": "Promised", "figure.kept_rate": "Kept rate",
  "figure.paid_after_visits": "Paid after visits", "figure.cash_collected": "Cash collected",
  "figure.on_time_share": "On time", "figure.evidence_complete_share": "Evidence complete",
  "figure.doubtful_presence_share": "Doubtful presence", "figure.addresses_invalid": "Addresses invalid",
  "figure.planned": "Stops planned",
  "drill.visits_done": "Visits done", "drill.visits_failed": "Visits where nobody was met",
  "drill.right_party_contacts": "Visits that met the debtor", "drill.family_contacts": "Visits that met the family",
  "drill.promises_made": "Visits with a promise", "drill.promises_kept": "Visits whose promise was kept",
  "drill.promises_partly_kept": "Visits whose promise was partly kept",
  "drill.promises_broken": "Visits whose promise was broken", "drill.paid_after_visits": "Visits followed by a payment",
  "drill.cash_collected": "Visits with cash collected", "drill.on_time": "Visits started on time",
  "drill.evidence_flagged": "Visits with evidence flagged", "drill.doubtful_presence": "Visits with doubtful presence",
  "promise.pending": "pending", "promise.kept": "kept", "promise.partly_kept": "partly kept",
  "promise.broken": "broken", "contact.met_debtor": "met the debtor", "contact.met_family": "met the family",
  "contact.met_other": "met someone else", "contact.nobody": "nobody",
  "error.follow-up-exists": "This promise was followed up already",
  "error.promise-not-broken": "Only a broken or partly kept promise is followed up",
  "error.promise-not-found": "The promise was not found",
  "error.address-invalid": "The address is reported or confirmed invalid",
  "error.visit-request-duplicate": "The address already has a visit request for these dates",
  "error.window-outside-visiting-hours": "The window is outside the legal visiting hours at the address",
};

const dictionaries = { zh, en };
let language = localStorage.getItem("fieldvisit.language") || "zh";
let timeZone = "Asia/Shanghai";

export function t(key) {
  return dictionaries[language][key] ?? zh[key] ?? key;
}

/** Whether the catalogue has a label for `key` (e.g. a problem's type the API may answer with). */
export function hasText(key) {
  return key in zh;
}

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  language = next in dictionaries ? next : "zh";
  localStorage.setItem("fieldvisit.language", language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
}

export function setTimeZone(zone) {
  timeZone = zone;
}

function locale() {
  return language === "zh" ? "zh-CN" : "en-GB";
}

/** HH:MM of an instant, in the branch's time zone. */
export function clock(instant) {
  if (!instant) return "";
  return new Intl.DateTimeFormat(locale(), { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(instant),
  );
}

/** Date and time of an instant, in the branch's time zone. */
export function moment(instant) {
  if (!instant) return "";
  return new Intl.DateTimeFormat(locale(), {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(instant));
}

/** The branch's local date (YYYY-MM-DD), `offsetDays` from today. */
export function localDate(offsetDays = 0) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(Date.now() + offsetDays * 86400000));
  return parts;
}

export function km(metres) {
  return `${(metres / 1000).toFixed(1)} ${t("km")}`;
}

/** A share (0 to 1) as a whole percentage; nothing to divide by shows as a dash. */
export function percent(share) {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`;
}

export function money(amount, currency = "CNY") {
  return `${currency === "CNY" ? "¥" : `${currency} `}${amount}`;
}
